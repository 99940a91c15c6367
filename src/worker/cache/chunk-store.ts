/**
 * Model files kept as fixed-size chunks in a key/value store, so a file of
 * gigabytes never has to fit in one IndexedDB value and a bad chunk costs one
 * chunk, not the file. Per file:
 *   c:<model>/<name>#<i>  one chunk (ArrayBuffer)
 *   p:<model>/<name>      while downloading: the chunks written so far, each
 *                         listed only after it is stored (resume point)
 *   m:<model>/<name>      the manifest, written last: the file is complete
 * Every read checks each chunk's sha256 against the manifest. Every record
 * carries the format version it was written in: a record of the version before
 * versioning is migrated as it is read, one of an unknown version or one that
 * is damaged is dropped with its chunks (the file is fetched again when next
 * needed), so no caller ever sees or lists it.
 */
import type { KvStore } from './kv';
import { StorageFullError } from './quota';

export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;

export interface FileKey {
  /** Model id, e.g. "webvlm-tiny" or "HuggingFaceTB/SmolVLM-256M-Instruct". */
  model: string;
  /** Path inside the model, e.g. "onnx/embed_tokens.onnx". */
  name: string;
}

/** The version of the records below; records written before versioning count as 1. */
export const CACHE_FORMAT = 2;

export interface FileRecord extends FileKey {
  /** CACHE_FORMAT when written. */
  format?: number;
  /** Where the bytes came from; a repair fetches ranges from here. */
  url: string;
  /** Total bytes; null while a download has not learned it yet. */
  size: number | null;
  /** The server's ETag (the hub gives the file's sha256 for LFS files), if any. */
  etag: string | null;
  lastModified: string | null;
  /**
   * The whole file's sha256 where the server names it: an ETag of 64 hex digits
   * sent by the URL itself (a mirror or server that answers without a redirect).
   * Not taken from a redirect target (the hub sends LFS files to a CDN), whose
   * ETag may mean something else.
   */
  sha256?: string;
  /** The hub's commit the file was fetched at (or the package version of app-served files), where known. */
  revision?: string;
  chunkSize: number;
  chunks: { sha256: string }[];
}

export interface FileManifest extends FileRecord {
  size: number;
  storedAt: number;
}

/** The cached chunk and the server disagree: the file changed upstream. */
export class StaleFileError extends Error {
  override readonly name = 'StaleFileError';
}

/** Fetches bytes [start, end) of a file again; used to repair a chunk. */
export type RangeFetch = (manifest: FileManifest, start: number, end: number) => Promise<ArrayBuffer>;

export const fileId = (k: FileKey): string => `${k.model}/${k.name}`;
const manifestKey = (k: FileKey) => `m:${fileId(k)}`;
const partialKey = (k: FileKey) => `p:${fileId(k)}`;
const chunkKey = (k: FileKey, i: number) => `c:${fileId(k)}#${i}`;
/** An optional file the server said it does not have (404), at the revision asked for. */
const absentKey = (k: FileKey) => `a:${fileId(k)}`;

const isText = (v: unknown): v is string => typeof v === 'string';
const isTextOrNull = (v: unknown) => v === null || isText(v);
const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/** The record stored under `key`, checked field by field; null when it is damaged. */
function checkedRecord(v: unknown, id: string, complete: boolean): FileRecord | null {
  if (!v || typeof v !== 'object') return null;
  const r = v as Partial<FileManifest>;
  if (!isText(r.model) || !isText(r.name) || !r.model || !r.name || `${r.model}/${r.name}` !== id || !isText(r.url)) return null;
  if (!isTextOrNull(r.etag) || !isTextOrNull(r.lastModified ?? null) || !isCount(r.chunkSize) || r.chunkSize === 0) return null;
  if (!Array.isArray(r.chunks) || !r.chunks.every((c: unknown) => isText((c as { sha256?: unknown } | null)?.sha256))) return null;
  if (r.sha256 !== undefined && !isText(r.sha256)) return null;
  if (r.revision !== undefined && !isText(r.revision)) return null;
  if (!complete) return r.size === null || isCount(r.size) ? (r as FileRecord) : null;
  if (!isCount(r.size) || typeof r.storedAt !== 'number' || r.chunks.length !== Math.ceil(r.size / r.chunkSize)) return null;
  return r as FileManifest;
}

function isArrayBuffer(v: unknown): v is ArrayBuffer {
  // instanceof fails for buffers cloned in another realm (fake IndexedDB, workers).
  return Object.prototype.toString.call(v) === '[object ArrayBuffer]';
}

export async function sha256Hex(data: ArrayBuffer | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data as BufferSource);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export class ChunkStore {
  constructor(readonly kv: KvStore) {}

  async manifest(key: FileKey): Promise<FileManifest | null> {
    return (await this.load(manifestKey(key), true)) as FileManifest | null;
  }

  async partial(key: FileKey): Promise<FileRecord | null> {
    return this.load(partialKey(key), false);
  }

  /**
   * A record as the current format has it: migrated from the unversioned
   * format, or dropped (with its file's other records and chunks) when it is
   * damaged or of a format this code does not know.
   */
  private async load(key: string, complete: boolean): Promise<FileRecord | null> {
    const v = await this.kv.get(key);
    if (v === undefined) return null;
    const id = key.slice(2);
    const format = (v as { format?: unknown } | null)?.format;
    const record = format === undefined || format === CACHE_FORMAT ? checkedRecord(v, id, complete) : null;
    if (!record) {
      await this.dropId(id);
      return null;
    }
    if (format === undefined) {
      record.format = CACHE_FORMAT;
      // Best effort: a full disk must not turn a read into a failure; the record migrates again next time.
      await this.put(key, record, id).catch(() => undefined);
    }
    return record;
  }

  /** Every record and chunk of a file known only by its id (its record may be too damaged to name it). */
  private async dropId(id: string): Promise<void> {
    await this.kv.del(`m:${id}`);
    await this.kv.del(`p:${id}`);
    const prefix = `c:${id}#`;
    for (const k of await this.kv.keys()) if (k.startsWith(prefix)) await this.kv.del(k);
  }

  /** A write the browser may refuse for lack of room: that refusal becomes a StorageFullError naming the file. */
  private async put(key: string, value: unknown, file: string): Promise<void> {
    try {
      await this.kv.set(key, value);
    } catch (err) {
      if ((err as { name?: unknown } | null)?.name === 'QuotaExceededError') throw new StorageFullError(file);
      throw err;
    }
  }

  async savePartial(record: FileRecord): Promise<void> {
    await this.put(partialKey(record), { ...record, format: CACHE_FORMAT }, fileId(record));
  }

  /** Stores chunk i and returns its sha256; the caller lists it in the partial record afterwards. */
  async putChunk(key: FileKey, index: number, data: Uint8Array): Promise<string> {
    const copy = data.slice().buffer;
    const sha256 = await sha256Hex(copy);
    await this.put(chunkKey(key, index), copy, fileId(key));
    return sha256;
  }

  /** The download is complete: the manifest goes in last, then the resume record goes. */
  async finish(record: FileRecord, size: number): Promise<FileManifest> {
    const manifest: FileManifest = { ...record, format: CACHE_FORMAT, size, storedAt: Date.now() };
    await this.put(manifestKey(record), manifest, fileId(record));
    await this.kv.del(partialKey(record));
    return manifest;
  }

  /** Rewrites a complete file's record (a revalidation that found it current at a new revision). */
  async updateManifest(manifest: FileManifest): Promise<void> {
    await this.put(manifestKey(manifest), { ...manifest, format: CACHE_FORMAT }, fileId(manifest));
  }

  /** Bytes [0, end) of a file whose chunks are listed in `record` (complete or not), each chunk checked. */
  async readHead(record: FileRecord, end: number): Promise<Uint8Array> {
    const out = new Uint8Array(end);
    for (let i = 0; i * record.chunkSize < end; i++) {
      const data = await this.kv.get(chunkKey(record, i));
      const want = record.chunks[i]?.sha256;
      if (!isArrayBuffer(data) || want === undefined || (await sha256Hex(data)) !== want) throw new Error(`${fileId(record)}: chunk ${i} changed while it was being stored`);
      out.set(new Uint8Array(data).subarray(0, end - i * record.chunkSize), i * record.chunkSize);
    }
    return out;
  }

  /**
   * The whole file, every chunk checked against its sha256. A missing or
   * corrupt chunk is fetched again through `refetch` (an HTTP Range request),
   * checked, and stored in place; the other chunks are kept.
   */
  async read(key: FileKey, refetch: RangeFetch, onRepair?: (chunk: number) => void): Promise<ArrayBuffer> {
    const m = await this.manifest(key);
    if (!m) throw new Error(`${fileId(key)} is not in the cache`);
    const out = new Uint8Array(m.size);
    for (let i = 0; i < m.chunks.length; i++) {
      const start = i * m.chunkSize;
      const end = Math.min(m.size, start + m.chunkSize);
      const want = (m.chunks[i] as { sha256: string }).sha256;
      let data = await this.kv.get(chunkKey(key, i));
      if (!isArrayBuffer(data) || data.byteLength !== end - start || (await sha256Hex(data)) !== want) {
        onRepair?.(i);
        data = await refetch(m, start, end);
        if (!isArrayBuffer(data) || data.byteLength !== end - start || (await sha256Hex(data)) !== want) {
          throw new StaleFileError(`${fileId(key)}: bytes ${start}-${end - 1} on the server no longer match the cached file`);
        }
        await this.kv.set(chunkKey(key, i), data);
      }
      out.set(new Uint8Array(data), start);
    }
    return out.buffer;
  }

  /** Drops a file and its chunks; the manifest goes first so no reader sees a half-deleted file. */
  async deleteFile(key: FileKey, chunkCount?: number): Promise<void> {
    const record = (await this.manifest(key)) ?? (await this.partial(key));
    await this.kv.del(manifestKey(key));
    await this.kv.del(partialKey(key));
    const prefix = `c:${fileId(key)}#`;
    const n = chunkCount ?? record?.chunks.length;
    if (n === undefined) {
      for (const k of await this.kv.keys()) if (k.startsWith(prefix)) await this.kv.del(k);
      return;
    }
    // A chunk past the record may exist when a download stopped between storing it and listing it.
    for (let i = 0; i <= n; i++) await this.kv.del(chunkKey(key, i));
  }

  /** Every complete file in the store. */
  manifests(): Promise<FileManifest[]> {
    return this.valuesUnder<FileManifest>('m:');
  }

  /** Every unfinished download in the store. */
  partials(): Promise<FileRecord[]> {
    return this.valuesUnder<FileRecord>('p:');
  }

  private async valuesUnder<T extends FileRecord>(prefix: 'm:' | 'p:'): Promise<T[]> {
    const out: T[] = [];
    for (const k of await this.kv.keys()) {
      if (!k.startsWith(prefix)) continue;
      const v = await this.load(k, prefix === 'm:');
      if (v) out.push(v as T);
    }
    return out;
  }

  /**
   * Records that the server has no such (optional) file, so a later load does
   * not ask again: offline, or behind a login page answering for every URL,
   * asking would fail a model whose every file is cached.
   */
  async markAbsent(key: FileKey, revision?: string): Promise<void> {
    await this.kv.set(absentKey(key), { revision: revision ?? null });
  }

  /** Whether the file was recorded absent, at `revision` when the caller knows one (a new commit may have added it). */
  async isAbsent(key: FileKey, revision?: string): Promise<boolean> {
    const v = (await this.kv.get(absentKey(key))) as { revision?: unknown } | undefined;
    if (!v || typeof v !== 'object') return false;
    return revision === undefined || v.revision === null || v.revision === revision;
  }

  /** Removes every file of a model, complete or not, and what was recorded absent; returns the bytes freed. */
  async deleteModel(model: string): Promise<number> {
    const prefix = `a:${model}/`;
    for (const k of await this.kv.keys()) if (k.startsWith(prefix)) await this.kv.del(k);
    let freed = 0;
    for (const m of await this.manifests()) {
      if (m.model !== model) continue;
      freed += m.size;
      await this.deleteFile(m, m.chunks.length);
    }
    for (const p of await this.partials()) {
      if (p.model !== model) continue;
      freed += p.chunks.length * p.chunkSize;
      await this.deleteFile(p, p.chunks.length);
    }
    return freed;
  }
}
