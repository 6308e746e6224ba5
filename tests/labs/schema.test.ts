import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAB_FILE_SCHEMA_ID, labFileJsonSchema } from '../../protocol/lab-file';
import { LAB_SCHEMA_PATH, labSchemaText } from '../../scripts/lab-schema';

describe('labs - JSON Schema export', () => {
  it('labs - the committed protocol/lab-file.schema.json is what scripts/lab-schema.ts writes (run it when this fails)', () => {
    const committed: unknown = JSON.parse(readFileSync(LAB_SCHEMA_PATH, 'utf8'));
    expect(committed).toEqual(JSON.parse(labSchemaText()));
  });

  it('labs - the JSON Schema is strict and describes the file as written', () => {
    const schema = labFileJsonSchema() as {
      $id: string;
      $schema: string;
      additionalProperties: boolean;
      required: string[];
      properties: Record<string, { items?: { additionalProperties?: boolean; properties?: Record<string, unknown> } }>;
    };
    expect(schema.$id).toBe(LAB_FILE_SCHEMA_ID);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['name', 'cluster', 'vms']);
    const vm = schema.properties.vms!.items!;
    expect(vm.additionalProperties).toBe(false);
    // sizes are written as numbers or text (`4G`), durations as text (`8h`): the input side of the schema
    expect(vm.properties!.memory).toMatchObject({ anyOf: [{ type: 'number' }, { type: 'string' }] });
    expect(Object.keys(vm.properties!)).toEqual([
      'name',
      'template',
      'clone',
      'node',
      'cores',
      'memory',
      'disk',
      'networks',
      'tags',
      'count',
      'dependsOn',
      'probe',
      'cloudInit',
    ]);
  });
});
