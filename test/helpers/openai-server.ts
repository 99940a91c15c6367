/**
 * An OpenAI-compatible chat-completions server on 127.0.0.1 for teacher
 * tests: POST /v1/chat/completions with the first user message holding a
 * text part and an `image_url` part whose URL is a base64 data URL of a PNG,
 * JPEG or WebP image (a request without one is answered 400, naming what is
 * wrong). Its answers are canned by question, so a test knows what to expect,
 * and each one names the size of the image it received. It can be scripted:
 * the next requests answer 429 (with Retry-After), 500, or hang without an
 * answer; a key can be required. CORS headers let a page on another origin
 * call it. Every request is logged.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ScriptedReply = { status: 429; retryAfter?: string } | { status: 500 } | { status: 'hang' };

export interface CompletionRequest {
  authorization: string | null;
  model: string;
  system: string | null;
  /** The last user message's text. */
  question: string;
  /** Messages in the request (system, user and assistant turns). */
  turns: number;
  imageType: string;
  imageBytes: number;
  status: number | 'hang';
}

export interface OpenAiServer {
  /** e.g. http://127.0.0.1:41234/v1 */
  readonly baseUrl: string;
  readonly log: CompletionRequest[];
  /** Replies for the next requests, in order; afterwards requests are answered normally. */
  readonly script: ScriptedReply[];
  /** When set, requests without `Authorization: Bearer <key>` are answered 401. */
  requireKey: string | null;
  close(): Promise<void>;
}

/** The canned answer to a question; the image's size is appended so a test can tell it arrived. */
export function cannedAnswer(question: string, imageBytes: number): string {
  if (/most prominent object/i.test(question)) return 'The red circle.';
  if (/^How many/i.test(question)) return '3';
  if (/^Locate every object/i.test(question)) return '<ref>red circle</ref><box>(100,120),(400,460)</box><ref>blue square</ref><box>(500,500),(900,880)</box>';
  return `An answer to "${question}" about an image of ${imageBytes} bytes.`;
}

interface Part {
  type?: unknown;
  text?: unknown;
  image_url?: { url?: unknown };
}
interface Message {
  role?: unknown;
  content?: unknown;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The request's model, question and image, or why it is not a chat-completions request with an image. */
function parseRequest(text: string): Omit<CompletionRequest, 'authorization' | 'status'> | string {
  let body: { model?: unknown; messages?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return 'the body is not JSON';
  }
  if (typeof body.model !== 'string' || !body.model) return 'no model';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'no messages';
  const messages = body.messages as Message[];
  const users = messages.filter((m) => m.role === 'user');
  const first = users[0];
  const last = users.at(-1);
  if (!first || !last) return 'no user message';
  if (!Array.isArray(first.content)) return "the first user message's content is not an array of parts";
  const parts = first.content as Part[];
  if (!parts.some((p) => p.type === 'text' && typeof p.text === 'string')) return 'the first user message has no text part';
  const image = parts.find((p) => p.type === 'image_url');
  const url = image?.image_url?.url;
  if (typeof url !== 'string') return 'the first user message has no image_url part';
  const m = /^data:(image\/(?:png|jpeg|webp));base64,([A-Za-z0-9+/=]+)$/.exec(url);
  if (!m) return 'the image_url is not a base64 data URL of a PNG, JPEG or WebP image';
  const bytes = Buffer.from(m[2] ?? '', 'base64');
  const question = typeof last.content === 'string' ? last.content : ((last.content as Part[]).find((p) => p.type === 'text')?.text as string | undefined) ?? '';
  const system = messages.find((msg) => msg.role === 'system');
  return { model: body.model, system: typeof system?.content === 'string' ? system.content : null, question, turns: messages.length, imageType: m[1] ?? '', imageBytes: bytes.length };
}

export async function startOpenAiServer(): Promise<OpenAiServer> {
  const log: CompletionRequest[] = [];
  const script: ScriptedReply[] = [];
  const hanging = new Set<ServerResponse>();
  const state = { requireKey: null as string | null };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
    res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      send(res, 404, { error: { message: `no route ${req.method} ${req.url}` } });
      return;
    }
    void readBody(req).then((text) => {
      const parsed = parseRequest(text);
      const authorization = req.headers.authorization ?? null;
      if (typeof parsed === 'string') {
        send(res, 400, { error: { message: parsed } });
        return;
      }
      const entry: CompletionRequest = { ...parsed, authorization, status: 200 };
      log.push(entry);
      if (state.requireKey !== null && authorization !== `Bearer ${state.requireKey}`) {
        entry.status = 401;
        send(res, 401, { error: { message: 'invalid api key' } });
        return;
      }
      const next = script.shift();
      if (next?.status === 'hang') {
        entry.status = 'hang';
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (next) {
        entry.status = next.status;
        send(res, next.status, { error: { message: next.status === 429 ? 'rate limited' : 'internal error' } }, next.status === 429 && next.retryAfter !== undefined ? { 'Retry-After': next.retryAfter } : {});
        return;
      }
      const content = cannedAnswer(parsed.question, parsed.imageBytes);
      send(res, 200, { id: `chatcmpl-${log.length}`, object: 'chat.completion', model: parsed.model, choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    log,
    script,
    get requireKey() {
      return state.requireKey;
    },
    set requireKey(v: string | null) {
      state.requireKey = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
