/**
 * A LLaVA data set from the files a person hands over: a JSON file (an array
 * of records, or JSON lines) with its images, picked as several files, as a
 * folder (paths relative to the folder's root), or packed in a zip. Nothing is
 * all-or-nothing: every bad record, missing image and refused file is named
 * in `problems` and skipped, and the good records are kept.
 *
 * An image path is looked up relative to the JSON file's folder, then as
 * written, then as the unique file whose path ends with it, then as the
 * unique file with its base name (files picked one by one arrive without
 * their folders). Image types are judged by their bytes: PNG, JPEG and WebP;
 * an SVG is refused (it is a document that can carry script).
 */
import { unzipSync, zipSync } from 'fflate';
import { looksLikeSvg, rasterImageType } from '../documents/file-kind';
import { checkLlavaRecords, recordImages, serialiseLlava, type LlavaRecord } from './llava';

export interface LlavaInputFile {
  path: string;
  bytes: Uint8Array;
}

/** One image of a data set under the path its records name (FinetuneImage's shape). */
export interface LlavaImageFile {
  path: string;
  type: 'image/png' | 'image/jpeg' | 'image/webp';
  bytes: Uint8Array;
}

/** Records and the images they name (FinetuneDataset's shape). */
export interface LlavaDataset {
  name: string;
  records: LlavaRecord[];
  images: LlavaImageFile[];
}

/** What was wrong and where: the file, the line (JSON syntax, JSON lines), the record's index in its file. */
export interface LlavaFileProblem {
  file: string;
  line?: number;
  record?: number;
  reason: string;
}

const ACCEPTED = new Set(['image/png', 'image/jpeg', 'image/webp']);
const isZip = (f: LlavaInputFile) => f.bytes[0] === 0x50 && f.bytes[1] === 0x4b && f.bytes[2] === 0x03 && f.bytes[3] === 0x04;
const isJsonName = (p: string) => /\.jsonl?$/i.test(p);
/** Files a zip or a folder carries that are nobody's data (macOS resource forks, Finder and Explorer caches). */
const isClutter = (p: string) => /(^|\/)(__MACOSX\/|\.DS_Store$|Thumbs\.db$|\._)/.test(p);

/** `a/./b/../c` -> `a/c`, backslashes as slashes, no leading `./` or `/`. */
export function normalisePath(path: string): string {
  const out: string[] = [];
  for (const part of path.replace(/\\/g, '/').split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

const dirname = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const stem = (p: string) => basename(p).replace(/\.[^.]*$/, '');

/** Line and column (1-based) of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** Where JSON.parse stopped, from its message (V8 names a position, sometimes line and column; Firefox line and column). */
export function jsonErrorAt(text: string, message: string): { line: number; column: number } | null {
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) return { line: Number(lc[1]), column: Number(lc[2]) };
  const pos = /position (\d+)/.exec(message);
  if (pos) return lineColumn(text, Number(pos[1]));
  if (/end of (JSON|data)/i.test(message)) return lineColumn(text, text.length);
  return null;
}

/**
 * The line (1-based) each element of a top-level JSON array starts on, for
 * text that JSON.parse has accepted: strings are skipped whole (escapes
 * included), and an element ends at a comma at depth zero.
 */
export function arrayElementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') continue;
    if (depth === 1 && expectValue && c !== ']') {
      lines.push(line);
      expectValue = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expectValue = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectValue = true;
  }
  return lines;
}

interface Parsed {
  values: unknown[];
  /** The line each value starts on. */
  lines?: number[];
}

function syntaxProblem(file: string, text: string, err: unknown, lineOffset = 0): LlavaFileProblem {
  const message = err instanceof Error ? err.message : String(err);
  const at = jsonErrorAt(text, message);
  return at
    ? { file, line: at.line + lineOffset, reason: `not valid JSON at line ${at.line + lineOffset}, column ${at.column}: ${message}` }
    : { file, reason: `not valid JSON: ${message}` };
}

/** JSON lines: one record per non-empty line; a line that does not parse is named and skipped. */
function parseJsonLines(file: string, text: string, problems: LlavaFileProblem[]): Parsed {
  const values: unknown[] = [];
  const lines: number[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.length === 0) return;
    try {
      values.push(JSON.parse(line));
      lines.push(i + 1);
    } catch (e) {
      problems.push(syntaxProblem(file, raw, e, i));
    }
  });
  return { values, lines };
}

const NOT_A_LIST = 'the top level must be an array of records (or one record per line)';

/**
 * The file's records as parsed values; null (with the problem noted) when it
 * does not parse; 'object' when it is a JSON object, not a list of records (a
 * side file such as the generator's meta.json, named only if no file holds records).
 */
function parseDatasetFile(file: LlavaInputFile, problems: LlavaFileProblem[]): Parsed | 'object' | null {
  const text = new TextDecoder('utf-8').decode(file.bytes).replace(/^\uFEFF/, '');
  const head = text.trimStart();
  // JSON lines: by name, or a .json file whose first record starts the text (no enclosing array).
  if (/\.jsonl$/i.test(file.path) || (head.startsWith('{') && text.trim().includes('\n'))) {
    const whole = head.startsWith('{') ? tryParse(text) : undefined;
    if (whole === undefined || /\.jsonl$/i.test(file.path)) return parseJsonLines(file.path, text, problems);
    return 'object';
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    problems.push(syntaxProblem(file.path, text, e));
    return null;
  }
  if (!Array.isArray(data)) {
    if (typeof data === 'object' && data !== null) return 'object';
    problems.push({ file: file.path, reason: NOT_A_LIST });
    return null;
  }
  return { values: data, lines: arrayElementLines(text) };
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Zips opened into their entries; an unreadable zip is named. */
function expandZips(files: readonly LlavaInputFile[], problems: LlavaFileProblem[]): { files: LlavaInputFile[]; zipName?: string } {
  const out: LlavaInputFile[] = [];
  let zipName: string | undefined;
  for (const f of files) {
    if (!isZip(f)) {
      out.push({ path: normalisePath(f.path), bytes: f.bytes });
      continue;
    }
    zipName ??= stem(f.path);
    try {
      const entries = unzipSync(f.bytes);
      for (const [path, bytes] of Object.entries(entries)) if (!path.endsWith('/')) out.push({ path: normalisePath(path), bytes });
    } catch (e) {
      problems.push({ file: f.path, reason: `not a readable zip (${e instanceof Error ? e.message : String(e)})` });
    }
  }
  return { files: out.filter((f) => !isClutter(f.path)), zipName };
}

/** Finds the file a record's image path names (see the module comment for the order). */
function imageResolver(files: readonly LlavaInputFile[]): (jsonPath: string, imagePath: string) => LlavaInputFile | undefined {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const unique = (hits: LlavaInputFile[]) => (hits.length === 1 ? hits[0] : undefined);
  return (jsonPath, imagePath) => {
    const rel = normalisePath(imagePath);
    const dir = dirname(jsonPath);
    return (
      byPath.get(normalisePath(dir ? `${dir}/${rel}` : rel)) ??
      byPath.get(rel) ??
      unique(files.filter((f) => f.path.endsWith(`/${rel}`))) ??
      unique(files.filter((f) => basename(f.path) === basename(rel)))
    );
  };
}

/** The image's type from its bytes, or what it is instead (refused). */
function imageType(bytes: Uint8Array): LlavaImageFile['type'] | string {
  const head = bytes.subarray(0, 4096);
  const type = rasterImageType(head);
  if (type && ACCEPTED.has(type)) return type as LlavaImageFile['type'];
  if (type) return `a ${type.slice(6).toUpperCase()} image (convert it to PNG, JPEG or WebP)`;
  if (looksLikeSvg(head)) return 'an SVG drawing, which can carry script (export it as PNG)';
  return 'not a PNG, JPEG or WebP image';
}

export function readLlavaFiles(input: readonly LlavaInputFile[]): { dataset: LlavaDataset; problems: LlavaFileProblem[] } {
  const problems: LlavaFileProblem[] = [];
  const { files, zipName } = expandZips(input, problems);
  const jsonFiles = files.filter((f) => isJsonName(f.path)).sort((a, b) => a.path.localeCompare(b.path));
  const resolve = imageResolver(files);
  const typed = new Map<LlavaInputFile, LlavaImageFile['type'] | string>();
  const typeOf = (f: LlavaInputFile) => {
    let t = typed.get(f);
    if (t === undefined) {
      t = imageType(f.bytes);
      typed.set(f, t);
      if (!ACCEPTED.has(t)) problems.push({ file: f.path, reason: t });
    }
    return t;
  };
  const seen = new Set<string>();
  const records: LlavaRecord[] = [];
  /** Kept images under the path their records write. */
  const images = new Map<string, LlavaImageFile>();
  let datasetFile: string | undefined;
  const objects: string[] = [];

  for (const file of jsonFiles) {
    const parsed = parseDatasetFile(file, problems);
    if (parsed === 'object') objects.push(file.path);
    if (parsed === null || parsed === 'object') continue;
    datasetFile ??= file.path;
    const checked = checkLlavaRecords(parsed.values, seen);
    const where = (index: number) => ({ file: file.path, ...(parsed.lines ? { line: parsed.lines[index] } : {}), record: index });
    for (const p of checked.problems) problems.push({ ...where(p.index), reason: p.reason });
    for (const { index, record } of checked.records) {
      const found: LlavaImageFile[] = [];
      let reason: string | undefined;
      for (const path of recordImages(record)) {
        const hit = resolve(file.path, path);
        const type = hit ? typeOf(hit) : undefined;
        if (!hit) reason = `image ${JSON.stringify(path)} was not found`;
        else if (type === undefined || !ACCEPTED.has(type)) reason = `image ${JSON.stringify(path)} is ${type ?? 'unreadable'}`;
        else found.push({ path, type: type as LlavaImageFile['type'], bytes: hit.bytes });
        if (reason) break;
      }
      if (reason) {
        problems.push({ ...where(index), reason });
        continue;
      }
      records.push(record);
      for (const img of found) if (!images.has(img.path)) images.set(img.path, img);
    }
  }
  if (!datasetFile) for (const file of objects) problems.push({ file, reason: NOT_A_LIST });
  if (jsonFiles.length === 0) problems.push({ file: input.length === 1 ? (input[0]?.path ?? '') : '', reason: 'no LLaVA JSON file (.json or .jsonl) among the files' });
  const folder = datasetFile?.includes('/') ? datasetFile.split('/')[0] : undefined;
  const name = zipName ?? folder ?? (datasetFile ? stem(datasetFile) : 'dataset');
  return { dataset: { name, records, images: [...images.values()] }, problems };
}

/** A file name from the data set's name: letters, digits, dot, dash and underscore. */
export const datasetFileStem = (name: string): string => name.replace(/\.(jsonl?|zip)$/i, '').replace(/[^\w.-]+/g, '_') || 'dataset';

/**
 * The data set as one zip: `<name>.json` (one record per line) beside its
 * images under the paths the records name, as readLlavaFiles reads it back.
 * Images are stored, not compressed (PNG, JPEG and WebP already are).
 */
export function llavaZip(dataset: { name: string; records: readonly LlavaRecord[]; images: readonly { path: string; bytes: Uint8Array }[] }): Uint8Array {
  const entries: Record<string, Uint8Array | [Uint8Array, { level: 0 }]> = {
    [`${datasetFileStem(dataset.name)}.json`]: new TextEncoder().encode(serialiseLlava(dataset.records)),
  };
  for (const img of dataset.images) entries[normalisePath(img.path)] = [img.bytes, { level: 0 }];
  return zipSync(entries);
}
