// Knowledge documents: runbooks, past incidents and failed requests, with their embedding vectors, for the
// knowledge base (adapters/knowledge). The embedding is stored as a little-endian Float32Array BLOB.
import type { Database } from 'better-sqlite3';
import { fromJson, toJson } from './json';
import { StatementCache, Where } from './statements';
import { TABLES } from './tables';

export const KNOWLEDGE_SOURCES = ['runbook', 'incident', 'request'] as const;
export type KnowledgeSource = (typeof KNOWLEDGE_SOURCES)[number];

export interface KnowledgeDocument {
  /** Unique across sources (the knowledge base prefixes it: `runbook:<id>`, `incident:<id>`, `request:<id>`). */
  id: string;
  source: KnowledgeSource;
  title: string;
  body: string;
  metadata: Record<string, unknown>;
  /** The document's embedding vector, if computed. Stored as float32. */
  embedding?: number[] | undefined;
  /** epoch ms */
  createdAt: number;
  /** epoch ms */
  updatedAt: number;
}

export interface KnowledgeFilter {
  source?: KnowledgeSource | undefined;
}

interface KnowledgeRow {
  id: string;
  source: string;
  title: string;
  body: string;
  metadata: string;
  embedding: Buffer | null;
  created_at: number;
  updated_at: number;
}

const T = TABLES;
const COLUMNS = 'id, source, title, body, metadata, embedding, created_at, updated_at';

/** The float32 little-endian bytes of `vector`. */
export function embeddingToBlob(vector: readonly number[]): Buffer {
  const floats = Float32Array.from(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
}

/** The vector stored in `blob` (copied, so alignment of the driver's buffer does not matter). */
export function blobToEmbedding(blob: Uint8Array): number[] {
  const bytes = Uint8Array.from(blob);
  return Array.from(new Float32Array(bytes.buffer, 0, Math.floor(bytes.byteLength / 4)));
}

export class KnowledgeRepo {
  private readonly stmts: StatementCache;

  constructor(db: Database) {
    this.stmts = new StatementCache(db);
  }

  /**
   * Inserts or replaces the document with `doc.id`. On replace the stored `createdAt` is kept; everything else
   * (including a missing embedding, which clears it) is taken from `doc`. Returns the stored document.
   */
  upsert(doc: KnowledgeDocument): KnowledgeDocument {
    this.stmts
      .get(
        `INSERT INTO ${T.knowledgeDocuments} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET source = excluded.source, title = excluded.title, body = excluded.body,
           metadata = excluded.metadata, embedding = excluded.embedding, updated_at = excluded.updated_at`,
      )
      .run(
        doc.id,
        doc.source,
        doc.title,
        doc.body,
        toJson(doc.metadata ?? {}, `knowledge document ${doc.id} metadata`),
        doc.embedding ? embeddingToBlob(doc.embedding) : null,
        doc.createdAt,
        doc.updatedAt,
      );
    return this.get(doc.id)!;
  }

  get(id: string): KnowledgeDocument | undefined {
    const row = this.stmts.get<KnowledgeRow>(`SELECT ${COLUMNS} FROM ${T.knowledgeDocuments} WHERE id = ?`).get(id);
    return row && documentOf(row);
  }

  /** Documents matching the filter, ordered by id. */
  list(filter: KnowledgeFilter = {}): KnowledgeDocument[] {
    const where = new Where().eq(filter.source, 'source = ?');
    return this.stmts
      .get<KnowledgeRow>(`SELECT ${COLUMNS} FROM ${T.knowledgeDocuments} ${where.sql} ORDER BY id`)
      .all(...where.params)
      .map(documentOf);
  }

  /** Every document, ordered by id. */
  all(): KnowledgeDocument[] {
    return this.list();
  }

  /** Number of documents, per source when asked. */
  count(filter: KnowledgeFilter = {}): number {
    const where = new Where().eq(filter.source, 'source = ?');
    return this.stmts
      .get<{ n: number }>(`SELECT count(*) AS n FROM ${T.knowledgeDocuments} ${where.sql}`)
      .get(...where.params)!.n;
  }

  /** False when there was no such document. */
  delete(id: string): boolean {
    return this.stmts.get(`DELETE FROM ${T.knowledgeDocuments} WHERE id = ?`).run(id).changes > 0;
  }
}

function documentOf(row: KnowledgeRow): KnowledgeDocument {
  const doc: KnowledgeDocument = {
    id: row.id,
    source: row.source as KnowledgeSource,
    title: row.title,
    body: row.body,
    metadata: fromJson(row.metadata, T.knowledgeDocuments, row.id),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.embedding) doc.embedding = blobToEmbedding(row.embedding);
  return doc;
}
