/**
 * What a model file must look like before the cache keeps it. A 200 answer is
 * not proof of a file: a captive portal, a login wall or a dev server's HTML
 * fallback answer 200 text/html for any path. So the content type is checked
 * as the answer arrives, and the stored bytes before the file is listed:
 * JSON must parse, a safetensors header must describe the file's bytes, an
 * ONNX file must open as an ONNX ModelProto, a text file must not be HTML.
 */
import { ModelFileError } from '../../models/model-files';

export type FileKind = 'json' | 'safetensors' | 'onnx' | 'text' | 'other';

export function fileKind(name: string): FileKind {
  const lower = name.toLowerCase();
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.safetensors')) return 'safetensors';
  if (lower.endsWith('.onnx')) return 'onnx';
  if (lower.endsWith('.txt') || lower.endsWith('.md')) return 'text';
  return 'other';
}

/** A refused answer's reason, e.g. "the server answered an HTML page (text/html) instead of the file". */
export function contentTypeProblem(name: string, contentType: string | null): string | null {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'text/html' || type === 'application/xhtml+xml') {
    return `the server answered an HTML page (${type}) instead of the file: a login or captive-portal page, or a wrong model id or URL`;
  }
  if (fileKind(name) !== 'json' && fileKind(name) !== 'text' && type === 'application/json') {
    // The hub answers errors of its API as JSON; a binary weight file never is.
    return `the server answered JSON (${type}) instead of the file, likely an error message`;
  }
  return null;
}

const looksLikeHtml = (head: Uint8Array): boolean => /^\s*<(!doctype\s+html|html|head|body|script|title)\b/i.test(new TextDecoder().decode(head.subarray(0, 256)));

/** Reads bytes [0, end) of the file being checked. */
export type HeadReader = (end: number) => Promise<Uint8Array>;

/** The largest safetensors header accepted (the format's own limit is 100 MB). */
const MAX_SAFETENSORS_HEADER = 100_000_000;

function checkSafetensorsHeader(json: string, size: number, headerEnd: number): string | null {
  let header: unknown;
  try {
    header = JSON.parse(json);
  } catch (err) {
    return `its safetensors header is not JSON (${err instanceof Error ? err.message : String(err)})`;
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) return 'its safetensors header is not a JSON object';
  let end = 0;
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const offsets = (info as { data_offsets?: unknown } | null)?.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && (o as number) >= 0) || (offsets[0] as number) > (offsets[1] as number)) {
      return `tensor ${name} of its safetensors header has no valid data_offsets`;
    }
    end = Math.max(end, offsets[1] as number);
  }
  if (headerEnd + end > size) return `its safetensors header describes ${headerEnd + end} bytes but the file has ${size}`;
  return null;
}

async function bodyProblem(kind: FileKind, size: number, read: HeadReader): Promise<string | null> {
  if (size === 0) return 'the server sent an empty file';
  const head = await read(Math.min(size, 256));
  if (looksLikeHtml(head)) return 'the server sent an HTML page instead of the file: a login or captive-portal page, or a wrong model id or URL';
  if (kind === 'json') {
    try {
      JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await read(size)));
    } catch (err) {
      return `it is not valid JSON (${err instanceof Error ? err.message : String(err)})`;
    }
    return null;
  }
  if (kind === 'safetensors') {
    if (size < 8) return `a safetensors file needs at least 8 bytes, it has ${size}`;
    const n = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
    if (n < 2n || n > BigInt(Math.min(MAX_SAFETENSORS_HEADER, size - 8))) return `its safetensors header length (${n}) does not fit a ${size}-byte file`;
    const all = await read(8 + Number(n));
    return checkSafetensorsHeader(new TextDecoder().decode(all.subarray(8)), size, 8 + Number(n));
  }
  if (kind === 'onnx') {
    // A ModelProto starts with field 1 (ir_version, a small varint): bytes 08 <1..127>.
    if (head[0] !== 0x08 || head.length < 2 || (head[1] as number) < 1 || (head[1] as number) > 0x7f) return 'it does not start as an ONNX model does (ir_version first)';
    return null;
  }
  if (kind === 'text') {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(await read(Math.min(size, 64 * 1024)));
    } catch {
      return 'it is not UTF-8 text';
    }
  }
  return null;
}

/** Throws a 'malformed' ModelFileError naming the file and what is wrong with its bytes. */
export async function validateFile(file: string, name: string, size: number, read: HeadReader): Promise<void> {
  const problem = await bodyProblem(fileKind(name), size, read);
  if (problem) throw new ModelFileError(file, 'malformed', `was not stored: ${problem}`);
}
