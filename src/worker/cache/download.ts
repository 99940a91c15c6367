/**
 * One file from a URL into the chunk store. A transfer that breaks resumes
 * with an HTTP Range request at the first chunk not yet stored (bytes of an
 * unfinished chunk are dropped, stored chunks are never fetched again). If the
 * server's ETag changed since the first byte, the file starts over: the stored
 * chunks belong to another version.
 *
 * Nothing is listed before it is checked: an HTML answer is refused at its
 * headers; a body shorter than the size the server or the hub announced is not
 * complete; the bytes must be what the file name says (validate.ts) and, where
 * the server or the hub names it, have the right sha256. Only then is the
 * manifest written.
 */
import { ModelFileError } from '../../models/model-files';
import { fileId, sha256Hex, StaleFileError, type ChunkStore, type FileKey, type FileManifest, type FileRecord, type RangeFetch } from './chunk-store';
import type { ProgressReporter } from './progress';
import { contentTypeProblem, validateFile } from './validate';

export interface DownloadTarget extends FileKey {
  url: string;
  /** The size the hub lists: a body that ends short of it is not complete, one that runs past it is not the file. */
  size?: number | null;
  /** The sha256 the hub lists (LFS files): checked whatever server the bytes came from. */
  sha256?: string;
  /** The commit (or package version) the file is fetched at, kept in its record. */
  revision?: string;
}

export interface DownloadContext {
  store: ChunkStore;
  fetchFn: typeof fetch;
  chunkSize: number;
  progress: ProgressReporter;
  /** Tries per file; each resumes where the previous one broke. */
  maxAttempts: number;
  retryDelayMs: number;
  signal?: AbortSignal;
}

/** A failure worth another try (network, 5xx, a body cut short). */
class RetryableError extends Error {}

/** A body that ended cleanly short of its size: the bytes it left are not trusted. */
class TruncatedError extends RetryableError {}

/** Bytes that arrived whole but are not the file the server or the hub names. */
class CorruptDownloadError extends RetryableError {}

interface Transfer {
  res: Response;
  record: FileRecord;
}

/** Weak and strong forms of one tag compare equal; servers switch between them. */
export const sameEtag = (a: string | null, b: string | null): boolean => a === null || b === null || a.replace(/^W\//, '') === b.replace(/^W\//, '');

function httpFailure(target: DownloadTarget, status: number): Error {
  const file = fileId(target);
  if (status === 404) return new ModelFileError(file, 'missing', `was not found at ${target.url} (HTTP 404)`);
  if (status >= 500 || status === 408 || status === 429) return new RetryableError(`HTTP ${status}`);
  return new ModelFileError(file, 'unreachable', `could not be fetched from ${target.url} (HTTP ${status})`);
}

/** "bytes 100-199/1000" -> { start: 100, total: 1000 }; total null for "*". */
export function parseContentRange(v: string | null): { start: number; total: number | null } | null {
  const m = v ? /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(v.trim()) : null;
  if (!m) return null;
  return { start: Number(m[1]), total: m[2] === '*' ? null : Number(m[2]) };
}

function contentHash(res: Response): string | undefined {
  const tag = res.headers.get('etag')?.replace(/^W\//, '').replace(/"/g, '').toLowerCase();
  return !res.redirected && tag && /^[0-9a-f]{64}$/.test(tag) ? tag : undefined;
}

/** The size a 200 announces; a compressed body's Content-Length counts other bytes. */
function announcedSize(res: Response): number | null {
  const length = res.headers.get('content-length');
  return length !== null && res.headers.get('content-encoding') === null ? Number(length) : null;
}

/** Refuses an answer that cannot be the file (an HTML page, an error as JSON) before its body is read. */
async function refuseWrongType(target: DownloadTarget, res: Response): Promise<void> {
  const problem = contentTypeProblem(target.name, res.headers.get('content-type'));
  if (!problem) return;
  await res.body?.cancel().catch(() => undefined);
  throw new ModelFileError(fileId(target), 'malformed', `was not stored from ${target.url}: ${problem}`);
}

function freshRecord(target: DownloadTarget, res: Response, chunkSize: number): FileRecord {
  const sha256 = target.sha256 ?? contentHash(res);
  // The listed size is the file's; a Content-Length may count a compressed body (its encoding hidden from a cross-origin page).
  const size = target.size ?? announcedSize(res);
  return {
    ...(sha256 ? { sha256 } : {}),
    ...(target.revision ? { revision: target.revision } : {}),
    model: target.model,
    name: target.name,
    url: target.url,
    size,
    etag: res.headers.get('etag'),
    lastModified: res.headers.get('last-modified'),
    chunkSize,
    chunks: [],
  };
}

/** Sends the request (ranged when chunks are stored) and settles where the body starts. */
async function openTransfer(ctx: DownloadContext, target: DownloadTarget, record: FileRecord | null): Promise<Transfer> {
  const start = record ? record.chunks.length * record.chunkSize : 0;
  let res: Response;
  try {
    res = await ctx.fetchFn(target.url, { headers: start > 0 ? { Range: `bytes=${start}-` } : {}, signal: ctx.signal ?? null });
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    throw new RetryableError(err instanceof Error ? err.message : String(err));
  }
  if (res.status === 416 && record) {
    // The stored chunks reach past the server's file: it is another version.
    await ctx.store.deleteFile(target, record.chunks.length);
    return openTransfer(ctx, target, null);
  }
  if (!res.ok) throw httpFailure(target, res.status);
  await refuseWrongType(target, res).catch(async (err: unknown) => {
    if (record) await ctx.store.deleteFile(target, record.chunks.length);
    throw err;
  });
  if (res.status === 206 && record) {
    const range = parseContentRange(res.headers.get('content-range'));
    const changed = !sameEtag(record.etag, res.headers.get('etag')) || (range?.total != null && record.size !== null && range.total !== record.size);
    if (!changed && range?.start === start) return { res, record: { ...record, size: record.size ?? range.total } };
    // Another version of the file (or a range we did not ask for): start over from byte 0.
    await res.body?.cancel();
    await ctx.store.deleteFile(target, record.chunks.length);
    return openTransfer(ctx, target, null);
  }
  // A 200 carries the whole file, whatever was asked: what is stored is replaced.
  if (record) await ctx.store.deleteFile(target, record.chunks.length);
  const fresh = freshRecord(target, res, ctx.chunkSize);
  await ctx.store.savePartial(fresh);
  return { res, record: fresh };
}

/** Streams the body into chunks; each is stored, then listed in the resume record. */
async function consume(ctx: DownloadContext, target: DownloadTarget, { res, record }: Transfer): Promise<FileManifest> {
  const body = res.body;
  if (!body) throw new RetryableError('the response has no body');
  const reader = body.getReader();
  const cs = record.chunkSize;
  const buf = new Uint8Array(cs);
  let fill = 0;
  const at = () => record.chunks.length * cs + fill;
  const flush = async () => {
    const sha256 = await ctx.store.putChunk(target, record.chunks.length, buf.subarray(0, fill));
    record.chunks.push({ sha256 });
    fill = 0;
    await ctx.store.savePartial(record);
  };
  const resumed = record.chunks.length > 0;
  const announced = record.size !== null;
  // A size the hub lists is the file's; only a Content-Length may be a compressed body's.
  const strict = resumed || (target.size ?? null) !== null;
  for (;;) {
    const { done, value } = await reader.read().catch((err: unknown) => {
      throw new RetryableError(err instanceof Error ? err.message : String(err));
    });
    if (done) break;
    for (let off = 0; off < value.length; ) {
      const n = Math.min(cs - fill, value.length - off);
      buf.set(value.subarray(off, off + n), fill);
      fill += n;
      off += n;
      if (fill === cs) await flush();
    }
    if (record.size !== null && at() > record.size) {
      if (strict) {
        await reader.cancel().catch(() => undefined);
        await ctx.store.deleteFile(target, record.chunks.length);
        throw new ModelFileError(fileId(target), 'malformed', `was not stored: the server sent more than the ${record.size} bytes announced for it`);
      }
      // A compressed body outgrows its Content-Length (a header a cross-origin page may not see); the chunk hashes still guard it.
      record.size = null;
    }
    ctx.progress.update(target.name, at(), record.size ?? 0, value.length);
  }
  if (record.size !== null && at() < record.size) throw new TruncatedError(`the body ended at byte ${at()} of the ${record.size} bytes announced for it`);
  if (!announced) ctx.progress.addToTotal(at());
  const size = at();
  if (fill > 0) await flush();
  await checkStored(ctx, target, record, size);
  return ctx.store.finish(record, size);
}

/** Files up to this size are hashed whole before they are listed when the server or the hub names their sha256. */
export const WHOLE_FILE_CHECK_LIMIT = 1024 * 1024 * 1024;

/**
 * The per-chunk hashes only prove the cache kept what arrived. Before the
 * file is listed, what arrived is checked: its bytes must be the kind of file
 * its name says, and match the sha256 the hub lists or the server gives as
 * ETag. A file that fails is dropped whole.
 */
async function checkStored(ctx: DownloadContext, target: DownloadTarget, record: FileRecord, size: number): Promise<void> {
  const drop = () => ctx.store.deleteFile(target, record.chunks.length);
  // The sha256 first: a byte damaged in transit is worth another try, a file of the wrong kind is not.
  const want = record.sha256;
  if (want && size <= WHOLE_FILE_CHECK_LIMIT && (await sha256Hex(await ctx.store.readHead(record, size))) !== want) {
    await drop();
    const source = target.sha256 ? 'the hub lists' : 'the server gives as ETag';
    throw new CorruptDownloadError(`the downloaded bytes do not match the sha256 ${source} (${want.slice(0, 12)}…)`);
  }
  try {
    await validateFile(fileId(target), target.name, size, (end) => ctx.store.readHead(record, end));
  } catch (err) {
    await drop();
    throw err;
  }
}

/**
 * Stores a response someone else fetched (transformers.js hands its downloads
 * to the cache hook this way), hashed into chunks like a download of ours.
 */
export async function storeResponse(ctx: DownloadContext, target: DownloadTarget, res: Response): Promise<FileManifest> {
  const old = await ctx.store.partial(target);
  if (old) await ctx.store.deleteFile(target, old.chunks.length);
  await refuseWrongType(target, res);
  const record = freshRecord(target, res, ctx.chunkSize);
  await ctx.store.savePartial(record);
  try {
    const manifest = await consume(ctx, target, { res, record });
    ctx.progress.update(target.name, manifest.size, manifest.size, 0, true);
    return manifest;
  } catch (err) {
    // Nobody can resume a body we were handed; drop what it left.
    await ctx.store.deleteFile(target);
    if (err instanceof CorruptDownloadError) throw new ModelFileError(fileId(target), 'malformed', `was not stored: ${err.message}`);
    throw err instanceof RetryableError ? new ModelFileError(fileId(target), 'unreachable', `could not be stored (${err.message})`) : err;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Downloads `target` into the store (resuming what a previous try left) and returns its manifest. */
export async function downloadFile(ctx: DownloadContext, target: DownloadTarget): Promise<FileManifest> {
  const done = await ctx.store.manifest(target);
  if (done) return done;
  let lastError: RetryableError | null = null;
  for (let attempt = 1; attempt <= ctx.maxAttempts; attempt++) {
    const record = await ctx.store.partial(target);
    // A record from another URL or chunk size cannot be continued.
    if (record && (record.url !== target.url || record.chunkSize <= 0)) await ctx.store.deleteFile(target, record.chunks.length);
    const usable = record && record.url === target.url && record.chunkSize > 0 ? record : null;
    try {
      // A download that stopped between its last chunk and its manifest needs no request, only the checks.
      const stored = usable && usable.size !== null && usable.chunks.length * usable.chunkSize >= usable.size ? usable.size : null;
      if (usable && stored !== null) await checkStored(ctx, target, usable, stored);
      const manifest = usable && stored !== null ? await ctx.store.finish(usable, stored) : await consume(ctx, target, await openTransfer(ctx, target, usable));
      ctx.progress.update(target.name, manifest.size, manifest.size, 0, true);
      return manifest;
    } catch (err) {
      if (!(err instanceof RetryableError)) throw err;
      lastError = err;
      if (attempt < ctx.maxAttempts) await sleep(ctx.retryDelayMs * attempt);
    }
  }
  if (lastError instanceof CorruptDownloadError) throw new ModelFileError(fileId(target), 'malformed', `was not stored: ${lastError.message}, ${ctx.maxAttempts} times`);
  if (lastError instanceof TruncatedError) {
    // A server that ends the body early every time without saying so: what it sent is not kept.
    await ctx.store.deleteFile(target);
    throw new ModelFileError(fileId(target), 'malformed', `was not stored from ${target.url}: ${lastError.message}, ${ctx.maxAttempts} times`);
  }
  const left = await ctx.store.partial(target);
  const kept = left ? left.chunks.length * left.chunkSize : 0;
  throw new ModelFileError(fileId(target), 'unreachable', `could not be fetched from ${target.url} (${lastError?.message}); ${kept} bytes are kept and the next try resumes there`);
}

/** Repairs fetch one chunk's byte range again, refusing bytes from another version of the file. */
export function rangeFetcher(fetchFn: typeof fetch): RangeFetch {
  return async (m, start, end) => {
    const file = fileId(m);
    let res: Response;
    try {
      res = await fetchFn(m.url, { headers: { Range: `bytes=${start}-${end - 1}` } });
    } catch (err) {
      throw new ModelFileError(file, 'unreachable', `bytes ${start}-${end - 1} are damaged in the cache and could not be fetched again (${err instanceof Error ? err.message : String(err)})`);
    }
    if (res.status === 404) throw new ModelFileError(file, 'missing', `was not found at ${m.url} (HTTP 404) while repairing a damaged chunk`);
    if (!res.ok) throw new ModelFileError(file, 'unreachable', `bytes ${start}-${end - 1} could not be fetched again (HTTP ${res.status})`);
    if (!sameEtag(m.etag, res.headers.get('etag'))) throw new StaleFileError(`${file} changed on the server (ETag ${res.headers.get('etag')}, cached ${m.etag})`);
    const bytes = await res.arrayBuffer();
    // A server without Range support answers 200 with the whole file.
    if (res.status === 200) return bytes.slice(start, end);
    if (parseContentRange(res.headers.get('content-range'))?.start !== start) throw new StaleFileError(`${file}: the server answered another range than ${start}-${end - 1}`);
    return bytes;
  };
}

export interface RemoteFileInfo {
  size: number | null;
  etag: string | null;
  lastModified: string | null;
}

/** Headers only (HEAD): the size before a download, or whether a cached file is still current. */
export async function probeFile(fetchFn: typeof fetch, key: FileKey, url: string): Promise<RemoteFileInfo> {
  let res: Response;
  try {
    // One quiet retry: a kept-alive connection the server just closed fails the first try.
    res = await fetchFn(url, { method: 'HEAD' }).catch(() => fetchFn(url, { method: 'HEAD' }));
  } catch (err) {
    throw new ModelFileError(fileId(key), 'unreachable', `could not be reached at ${url} (${err instanceof Error ? err.message : String(err)})`);
  }
  if (res.status === 404) throw new ModelFileError(fileId(key), 'missing', `was not found at ${url} (HTTP 404)`);
  // A login page answering for the file says nothing about the file (and must not make a cached copy look stale).
  if (!res.ok || contentTypeProblem(key.name, res.headers.get('content-type'))) return { size: null, etag: null, lastModified: null };
  return { size: announcedSize(res), etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified') };
}

/** One file fetched whole without the cache (where it cannot store), under the same checks as a download into it. */
export async function fetchCheckedFile(target: DownloadTarget, fetchFn: typeof fetch = (...a) => fetch(...a)): Promise<ArrayBuffer> {
  let res: Response;
  try {
    res = await fetchFn(target.url);
  } catch (err) {
    throw new ModelFileError(fileId(target), 'unreachable', `could not be fetched from ${target.url} (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!res.ok) {
    const failure = httpFailure(target, res.status);
    throw failure instanceof ModelFileError ? failure : new ModelFileError(fileId(target), 'unreachable', `could not be fetched from ${target.url} (HTTP ${res.status})`);
  }
  await refuseWrongType(target, res);
  const bytes = new Uint8Array(await res.arrayBuffer());
  await validateFile(fileId(target), target.name, bytes.length, async (end) => bytes.subarray(0, end));
  return bytes.buffer;
}
