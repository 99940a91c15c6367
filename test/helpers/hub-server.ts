/**
 * A hub-like HTTP server on 127.0.0.1 for download tests: serves a model folder
 * as /<org>/<name>/resolve/main/<file>, with Range requests, an ETag (the
 * file's sha256, as the hub gives for LFS files) and switches that break
 * things on purpose: cut a transfer after N bytes, answer 404, damage a byte,
 * change a file's ETag (a new upstream version). Every request is logged.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

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
  gets(file?: string): HubRequest[];
  close(): Promise<void>;
}

interface Served {
  body: Buffer;
  etag: string | null;
}

export async function startHubServer(root: string, repo = 'local/webvlm-tiny'): Promise<HubServer> {
  const cuts = new Map<string, number>();
  const corruptOnce = new Map<string, number>();
  const log: HubRequest[] = [];
  const prefix = `/${repo}/resolve/main/`;
  const hashes = new Map<string, string>();
  const state = { notFound: new Set<string>(), corrupt: new Map<string, number>(), etagOverride: new Map<string, string>(), noEtag: false as boolean };

  async function load(file: string, method: string): Promise<Served | null> {
    if (state.notFound.has(file) || file.includes('..')) return null;
    let body: Buffer;
    try {
      body = await readFile(join(root, file));
    } catch {
      return null;
    }
    let sha = hashes.get(file);
    if (!sha) hashes.set(file, (sha = createHash('sha256').update(body).digest('hex')));
    const flip = state.corrupt.get(file) ?? (method === 'GET' ? corruptOnce.get(file) : undefined);
    if (method === 'GET') corruptOnce.delete(file);
    if (flip !== undefined) {
      body = Buffer.from(body);
      body[flip] = (body[flip] as number) ^ 0xff;
    }
    return { body, etag: state.noEtag ? null : (state.etagOverride.get(file) ?? `"${sha}"`) };
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
    const headers: Record<string, string> = { 'Content-Length': String(end - start + 1), 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream' };
    if (served.etag) headers.ETag = served.etag;
    if (status === 206) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return status;
    }
    const body = served.body.subarray(start, end + 1);
    const cut = cuts.get(file);
    if (cut !== undefined) {
      cuts.delete(file);
      // Flush the first bytes, then drop the connection mid-body, as a network failure would.
      res.write(body.subarray(0, cut), () => res.socket?.destroy());
      return status;
    }
    res.end(body);
    return status;
  }

  const server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const file = path.startsWith(prefix) ? path.slice(prefix.length) : '';
      const served = file ? await load(file, req.method ?? 'GET') : null;
      let status = 404;
      if (served) status = send(req, res, file, served);
      else res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Entry not found');
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
