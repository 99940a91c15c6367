/**
 * A teacher behind an OpenAI-compatible chat-completions endpoint (a local
 * server or a hosted model the person names): the image goes as an
 * `image_url` part holding a data URL, the key in an Authorization header.
 * The key lives only in this closure: never stored, logged or put in a
 * message. How a failure is handled is decided here, by its kind:
 *   - 429 and 5xx, and a server that cannot be reached: retried (TeacherRetry),
 *     honouring Retry-After;
 *   - no answer within the timeout, another 4xx, an empty answer: this image
 *     fails (TeacherImageError, naming the image) and the run goes on;
 *   - 401, 403, 404: no image could succeed, the run stops (VlmError 'teacher-endpoint').
 */
import { VlmError } from '../errors';
import type { FinetuneImage, TeacherSource } from '../finetune-api';

export interface TeacherTurn {
  role: 'user' | 'assistant';
  text: string;
}

/** Answers the last user turn of a conversation about one image (the image goes with the first turn). */
export interface TeacherAnswerer {
  answer(turns: readonly TeacherTurn[], image: FinetuneImage, instruction: string, signal?: AbortSignal): Promise<string>;
}

/** A failure worth another try; `retryAfterMs` when the server said how long to wait; `fatal` ends the run once the tries are spent. */
export class TeacherRetry extends Error {
  override readonly name = 'TeacherRetry';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    readonly fatal = false,
  ) {
    super(message);
  }
}

/** This image cannot be answered; the run skips it. */
export class TeacherImageError extends Error {
  override readonly name = 'TeacherImageError';
}

export const DEFAULT_TEACHER_TIMEOUT_MS = 120_000;
/** A Retry-After longer than this is shortened: the person is watching a progress bar. */
const MAX_RETRY_AFTER_MS = 120_000;

/** The chat-completions URL from what the person typed: a base (`http://host:8080/v1`) or the full path. */
export function completionsUrl(url: string): string {
  const trimmed = url.trim().replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw new VlmError('teacher-endpoint', `"${url}" is not a URL; give the endpoint as http(s)://host[:port]/v1`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new VlmError('teacher-endpoint', `the endpoint must be http or https, not ${parsed.protocol}`);
  return trimmed.endsWith('/chat/completions') ? trimmed : `${trimmed}/chat/completions`;
}

/** Retry-After as seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS) : undefined;
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** The answer's text: a string, or (some servers) an array of text parts. */
function contentText(body: unknown): string | null {
  const content = (body as { choices?: { message?: { content?: unknown } }[] } | null)?.choices?.[0]?.message?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p: { text?: unknown }) => (typeof p.text === 'string' ? p.text : '')).join('');
  return null;
}

const unreachable = (endpoint: string, err: unknown) =>
  `could not reach ${endpoint} (${err instanceof Error ? err.message : String(err)}). If the server is running, either it does not ` +
  "allow this page's origin (it must answer CORS requests: Access-Control-Allow-Origin, and Authorization among the allowed headers), or the page's " +
  "Content-Security-Policy does not allow it: the app connects only to the origins its connect-src lists, so a deployment must add the endpoint's " +
  'origin to WEBVLM_CONNECT_SRC when it is built (the dev server allows 127.0.0.1 and localhost)';

export function endpointAnswerer(source: Extract<TeacherSource, { kind: 'endpoint' }>, fetchImpl: typeof fetch = fetch): TeacherAnswerer {
  const endpoint = completionsUrl(source.url);
  const timeoutMs = source.timeoutMs ?? DEFAULT_TEACHER_TIMEOUT_MS;
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (source.apiKey) headers.Authorization = `Bearer ${source.apiKey}`;

  return {
    async answer(turns, image, instruction, signal) {
      const imagePart = { type: 'image_url', image_url: { url: `data:${image.type};base64,${base64(image.bytes)}` } };
      const messages = [
        { role: 'system', content: instruction },
        ...turns.map((t, i) => (i === 0 ? { role: 'user', content: [{ type: 'text', text: t.text }, imagePart] } : { role: t.role, content: t.text })),
      ];
      const timer = new AbortController();
      const timeout = setTimeout(() => timer.abort(), timeoutMs);
      const stop = () => timer.abort();
      signal?.addEventListener('abort', stop, { once: true });
      let response: Response;
      let text: string;
      try {
        response = await fetchImpl(endpoint, { method: 'POST', headers, body: JSON.stringify({ model: source.model, messages, max_tokens: 512, temperature: 0.2 }), signal: timer.signal });
        text = await response.text();
      } catch (err) {
        if (signal?.aborted) throw err;
        if (timer.signal.aborted) throw new TeacherImageError(`${image.path}: no answer from ${endpoint} within ${(timeoutMs / 1000).toFixed(timeoutMs < 10_000 ? 1 : 0)} s`);
        throw new TeacherRetry(unreachable(endpoint, err), undefined, true);
      } finally {
        clearTimeout(timeout);
        signal?.removeEventListener('abort', stop);
      }
      const snippet = text.slice(0, 200).replace(/\s+/g, ' ').trim();
      if (response.status === 429 || response.status >= 500) {
        throw new TeacherRetry(`${endpoint} answered ${response.status}${snippet ? ` (${snippet})` : ''}`, retryAfterMs(response.headers.get('Retry-After')));
      }
      if (response.status === 401 || response.status === 403) throw new VlmError('teacher-endpoint', `${endpoint} refused the request (${response.status}): check the key${snippet ? ` (${snippet})` : ''}`);
      if (response.status === 404) throw new VlmError('teacher-endpoint', `${endpoint} was not found (404): give the server's base URL, e.g. http://127.0.0.1:8080/v1`);
      if (!response.ok) throw new TeacherImageError(`${image.path}: ${endpoint} answered ${response.status}${snippet ? ` (${snippet})` : ''}`);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new TeacherImageError(`${image.path}: ${endpoint} did not answer with JSON (${snippet})`);
      }
      const answer = contentText(body);
      if (answer === null) throw new TeacherImageError(`${image.path}: ${endpoint}'s answer has no choices[0].message.content`);
      return answer;
    },
  };
}
