/**
 * A hub-like HTTP server on 127.0.0.1 for download tests: serves a model folder
 * as /<org>/<name>/resolve/main/<file>, with Range requests, an ETag (the
 * file's sha256, as the hub gives for LFS files) and switches that break
 * things on purpose: cut a transfer after N bytes, answer 404, damage a byte,
 * change a file's ETag (a new upstream version), pace bodies to a slow link,
 * answer every path with an HTML page (a captive portal), end a body early
 * without a Content-Length, list a wrong sha256, and send LFS files (weights)
 * through a redirect as the real hub does. It also answers the hub's API,
 * /api/models/<repo>/revision/main, with each file's size, the sha256 of LFS
 * files and a commit sha that changes when a file's ETag does.
 * Every file request is logged (API requests apart, in apiLog). Its responses carry the CORS headers the hub sends,
 * so a page on another origin (the app under Playwright, cross-origin isolated
 * with COEP require-corp) can read them: Range is not a safelisted request
 * header (a preflight), and ETag / Content-Range are not exposed by default.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, sep } from 'node:path';

export interface HubRequest {
  method: string;
  file: string;
  range: string | null;
  status: number;
}

export interface HubServer {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly repo: string;
  /** <url>/<repo>/resolve/main/ */
  readonly baseUrl: string;
  readonly log: HubRequest[];
  /** The next GET of `file` sends `bytes` body bytes, then closes the socket. */
  cutNext(file: string, bytes: number): void;
  notFound: Set<string>;
  /** Files served with the byte at this offset flipped (the ETag stays the true file's). */
  corrupt: Map<string, number>;
  /** The next GET of `file` arrives with the byte at `offset` flipped (damage in transit). */
  corruptNext(file: string, offset: number): void;
  /** Files whose ETag is replaced, as if a new version had been uploaded. */
  etagOverride: Map<string, string>;
  /** Serve without ETag headers. */
  noEtag: boolean;
  /** Bytes per second for GET bodies (a slow link, so progress can be watched); null for full speed. */
  bytesPerSecond: number | null;
  /** Every path (files and the API) answers 200 text/html with a login page, as a captive portal does. */
  html: boolean;
  /** GETs of these files answer 200 with no Content-Length and end cleanly after this many bytes (Range ignored). */
  truncate: Map<string, number>;
  /** The API (and the ETag) list a wrong sha256 for these files; the bytes are the true ones. */
  wrongSha256: Set<string>;
  /** LFS files (.safetensors, .onnx) answer 302 to a CDN path with X-Linked-Etag and X-Linked-Size, as the hub does. */
  lfsRedirect: boolean;
  /** Answer the hub's API (false: 404, a mirror without it). */
  api: boolean;
  /** API requests: their paths. */
  readonly apiLog: string[];
  gets(file?: string): HubRequest[];
  close(): Promise<void>;
}

/**
 * Any origin may read, as on the hub. CORP too: a COEP require-corp page needs
 * it for no-cors loads, and it costs nothing for CORS fetches.
 */
const CORS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'ETag, Content-Range, Content-Length, Accept-Ranges, Last-Modified',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

interface Served {
  body: Buffer;
  etag: string | null;
}

const isLfs = (file: string) => /\.(safetensors|onnx)$/.test(file);
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const WRONG_SHA = 'f'.repeat(64);
const PORTAL = '<!DOCTYPE html><html><head><title>Sign in</title></head><body><form>Sign in to use this network</form></body></html>';

export async function startHubServer(root: string, repo = 'local/webvlm-tiny'): Promise<HubServer> {
  const cuts = new Map<string, number>();
  const corruptOnce = new Map<string, number>();
  const log: HubRequest[] = [];
  const prefix = `/${repo}/resolve/main/`;
  const cdnPrefix = `/cdn/${repo}/`;
  const hashes = new Map<string, string>();
  const apiLog: string[] = [];
  const state = {
    notFound: new Set<string>(),
    corrupt: new Map<string, number>(),
    etagOverride: new Map<string, string>(),
    noEtag: false as boolean,
    bytesPerSecond: null as number | null,
    html: false as boolean,
    truncate: new Map<string, number>(),
    wrongSha256: new Set<string>(),
    lfsRedirect: false as boolean,
    api: true as boolean,
  };

  async function load(file: string, method: string): Promise<Served | null> {
    if (state.notFound.has(file) || file.includes('..')) return null;
    let body: Buffer;
    try {
      body = await readFile(join(root, file));
    } catch {
      return null;
    }
    let sha = hashes.get(file);
    if (!sha) hashes.set(file, (sha = sha256(body)));
    if (state.wrongSha256.has(file)) sha = WRONG_SHA;
    const flip = state.corrupt.get(file) ?? (method === 'GET' ? corruptOnce.get(file) : undefined);
    if (method === 'GET') corruptOnce.delete(file);
    if (flip !== undefined) {
      body = Buffer.from(body);
      body[flip] = (body[flip] as number) ^ 0xff;
    }
    return { body, etag: state.noEtag ? null : (state.etagOverride.get(file) ?? `"${sha}"`) };
  }

  /** Writes the body in slices, paced when asked, and drops the socket after `cut` bytes. */
  async function stream(res: ServerResponse, body: Buffer, cut: number | undefined): Promise<void> {
    const slice = 64 * 1024;
    const end = cut === undefined ? body.length : Math.min(cut, body.length);
    for (let off = 0; off < end; off += slice) {
      const piece = body.subarray(off, Math.min(end, off + slice));
      if (!res.write(piece)) await new Promise((resolve) => res.once('drain', resolve));
      const rate = state.bytesPerSecond;
      if (rate) await new Promise((resolve) => setTimeout(resolve, (piece.length / rate) * 1000));
      if (res.destroyed) return;
    }
    // Flush the first bytes, then drop the connection mid-body, as a network failure would.
    if (cut !== undefined) await new Promise<void>((resolve) => res.write(Buffer.alloc(0), () => resolve())).then(() => res.socket?.destroy());
    else res.end();
  }

  function send(req: IncomingMessage, res: ServerResponse, file: string, served: Served): number {
    const size = served.body.length;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (m) {
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      if (start >= size || end < start) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
        return 416;
      }
      status = 206;
    }
    const headers: Record<string, string> = { ...CORS, 'Content-Length': String(end - start + 1), 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream' };
    if (served.etag) headers.ETag = served.etag;
    if (status === 206) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    const short = req.method === 'GET' ? state.truncate.get(file) : undefined;
    if (short !== undefined) {
      // A proxy that drops the length and stops early, cleanly: only the size listed elsewhere tells.
      res.writeHead(200, { ...CORS, 'Content-Type': 'application/octet-stream', ...(served.etag ? { ETag: served.etag } : {}) });
      // write() before end(): a body given to end() alone would get a Content-Length from Node.
      res.write(served.body.subarray(0, short));
      res.end();
      return 200;
    }
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return status;
    }
    const cut = cuts.get(file);
    cuts.delete(file);
    void stream(res, served.body.subarray(start, end + 1), cut);
    return status;
  }

  /** The hub's /api/models/<repo>/revision/main?blobs=true, from the files on disk. */
  async function apiAnswer(res: ServerResponse): Promise<void> {
    const names = (await readdir(root, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => relative(root, join(d.parentPath, d.name)).split(sep).join('/'));
    const siblings = [];
    for (const name of names.sort()) {
      const served = await load(name, 'HEAD');
      if (!served) continue;
      const lfs = isLfs(name) ? { lfs: { sha256: state.wrongSha256.has(name) ? WRONG_SHA : sha256(served.body), size: served.body.length, pointerSize: 134 } } : {};
      siblings.push({ rfilename: name, size: served.body.length, blobId: sha256(`${name} ${served.etag}`).slice(0, 40), ...lfs });
    }
    const commit = sha256(siblings.map((s) => `${s.rfilename} ${s.blobId} ${s.size}`).join('\n')).slice(0, 40);
    res.writeHead(200, { ...CORS, 'Content-Type': 'application/json' }).end(JSON.stringify({ id: repo, sha: commit, siblings }));
  }

  const server = createServer((req, res) => {
    void (async () => {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { ...CORS, 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Allow-Headers': 'Range', 'Access-Control-Max-Age': '600' }).end();
        log.push({ method: 'OPTIONS', file: '', range: null, status: 204 });
        return;
      }
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const isApi = path.startsWith('/api/');
      if (isApi) apiLog.push(path);
      if (state.html) {
        res.writeHead(200, { ...CORS, 'Content-Type': 'text/html; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : PORTAL);
        if (!isApi) log.push({ method: req.method ?? 'GET', file: path.startsWith(prefix) ? path.slice(prefix.length) : path, range: req.headers.range ?? null, status: 200 });
        return;
      }
      if (isApi) {
        if (state.api && path.startsWith(`/api/models/${repo}/revision/`)) await apiAnswer(res);
        else res.writeHead(404, { ...CORS, 'Content-Type': 'text/plain' }).end('Not found');
        return;
      }
      const cdn = path.startsWith(cdnPrefix);
      const file = path.startsWith(prefix) ? path.slice(prefix.length) : cdn ? path.slice(cdnPrefix.length) : '';
      const served = file ? await load(file, req.method ?? 'GET') : null;
      let status = 404;
      if (served && state.lfsRedirect && isLfs(file) && !cdn) {
        // As the hub: the file's sha256 and size ride on headers of the redirect, which fetch follows unseen.
        res.writeHead(302, { ...CORS, Location: `${cdnPrefix}${file}`, 'X-Linked-Etag': served.etag ?? '', 'X-Linked-Size': String(served.body.length) }).end();
        return;
      }
      // The CDN's ETag is its own, not the file's sha256.
      if (served && cdn) status = send(req, res, file, { ...served, etag: `"cdn-${sha256(served.etag ?? '').slice(0, 16)}"` });
      else if (served) status = send(req, res, file, served);
      else res.writeHead(404, { ...CORS, 'Content-Type': 'text/plain' }).end('Entry not found');
      log.push({ method: req.method ?? 'GET', file, range: req.headers.range ?? null, status });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Tests flip the switches on this same object, so the handler reads them live.
  return Object.assign(state, {
    url,
    repo,
    baseUrl: `${url}${prefix}`,
    log,
    apiLog,
    cutNext: (file: string, bytes: number) => {
      cuts.set(file, bytes);
    },
    corruptNext: (file: string, offset: number) => {
      corruptOnce.set(file, offset);
    },
    gets: (file?: string) => log.filter((r) => r.method === 'GET' && (file === undefined || r.file === file)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
