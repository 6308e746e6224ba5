// Writes protocol/lab-file.schema.json, the lab file's JSON Schema for editors, from the zod schema, formatted as the
// repository's formatter (biome) wants it.
// Run: npx tsx scripts/lab-schema.ts   (tests/labs/schema.test.ts fails when the committed file is stale)
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { labFileJsonSchema } from '../protocol/lab-file';

export const LAB_SCHEMA_PATH = fileURLToPath(new URL('../protocol/lab-file.schema.json', import.meta.url));

export function labSchemaText(): string {
  return `${JSON.stringify(labFileJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(LAB_SCHEMA_PATH, labSchemaText());
  const biome = fileURLToPath(new URL('../node_modules/.bin/biome', import.meta.url));
  execFileSync(biome, ['format', '--write', LAB_SCHEMA_PATH], { stdio: 'ignore' });
  console.log(`wrote ${LAB_SCHEMA_PATH}`);
}
