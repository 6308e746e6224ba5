import { describe, expect, it } from 'vitest';
import { blobToEmbedding, embeddingToBlob, type KnowledgeDocument, StateStore } from '../../state';
import { dbPath, openStore } from './helpers';

const doc = (over: Partial<KnowledgeDocument> = {}): KnowledgeDocument => ({
  id: 'runbook:a',
  source: 'runbook',
  title: 'A',
  body: 'body',
  metadata: { tags: ['x'] },
  embedding: [0.5, -0.25, 0.125],
  createdAt: 100,
  updatedAt: 100,
  ...over,
});

describe('knowledge repo', () => {
  it('knowledge repo - upsert, get, list by source, delete', () => {
    const store = openStore();
    const repo = store.knowledge;
    repo.upsert(doc());
    repo.upsert(doc({ id: 'incident:1', source: 'incident', title: 'I', embedding: undefined }));
    repo.upsert(doc({ id: 'request:r1', source: 'request', title: 'R' }));
    expect(repo.get('runbook:a')).toEqual(doc());
    expect(repo.get('incident:1')!.embedding).toBeUndefined();
    expect(repo.list().map((d) => d.id)).toEqual(['incident:1', 'request:r1', 'runbook:a']);
    expect(repo.all()).toEqual(repo.list());
    expect(repo.list({ source: 'request' }).map((d) => d.id)).toEqual(['request:r1']);
    expect(repo.count()).toBe(3);
    expect(repo.count({ source: 'runbook' })).toBe(1);
    expect(repo.delete('request:r1')).toBe(true);
    expect(repo.delete('request:r1')).toBe(false);
    expect(repo.get('request:r1')).toBeUndefined();
  });

  it('knowledge repo - a replaced document keeps its createdAt', () => {
    const repo = openStore().knowledge;
    repo.upsert(doc());
    const stored = repo.upsert(doc({ title: 'A2', createdAt: 999, updatedAt: 500, embedding: [1, 0, 0] }));
    expect(stored).toMatchObject({ title: 'A2', createdAt: 100, updatedAt: 500, embedding: [1, 0, 0] });
  });

  it('knowledge repo - embeddings are float32 BLOBs and survive reopening the database', () => {
    const file = dbPath();
    const vector = [0.1, 0.2, -0.3];
    const first = StateStore.open(file);
    first.knowledge.upsert(doc({ embedding: vector }));
    const raw = first.db
      .prepare('SELECT typeof(embedding) AS t, length(embedding) AS n FROM knowledge_documents')
      .get();
    expect(raw).toEqual({ t: 'blob', n: 12 });
    first.close();
    const again = openStore(file);
    expect(again.knowledge.get('runbook:a')!.embedding).toEqual(vector.map(Math.fround));
    expect(blobToEmbedding(embeddingToBlob(vector))).toEqual(vector.map(Math.fround));
  });
});
