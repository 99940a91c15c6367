/**
 * The shapes chat history is stored in, and how a stored value is read back:
 * checked field by field, repaired where the damage leaves the meaning
 * intact, dropped where it does not, and migrated from older formats. Plain
 * functions over plain data, so the rules are tested in Node without a
 * database.
 */
import type { GroundedObject, TaskRegions } from '../../worker/api';
import type { AnswerStats, AssistantTurn, ImageFile, Turn, TurnError, UserTurn } from './conversation';

/**
 * Format 2: one record per turn (`turn:<id>`) and one per image (`image:<id>`).
 * Format 1 kept every turn in one `turns` record, so two tabs overwrote each other.
 * Bump when a record's shape changes, and add a migration from the old one below.
 */
export const FORMAT = 2;

/** Where a turn sits in the conversation: exchanges in the order they began, a question before its answer. */
export interface Place {
  /** When the exchange began (ms since the epoch; a migrated turn keeps its old index). */
  at: number;
  /** The id of the exchange's question, so two exchanges begun in the same millisecond stay apart. */
  group: string;
  /** 0 for the question, 1 for its answer. */
  seq: number;
}

export interface TurnRecord extends Place {
  format: typeof FORMAT;
  turn: Turn;
}

export const LEGACY_TURNS_KEY = 'turns';
export const turnKey = (id: string) => `turn:${id}`;
export const imageKey = (id: string) => `image:${id}`;
export const TURN_PREFIX = 'turn:';
export const IMAGE_PREFIX = 'image:';

const FINISHES: readonly AssistantTurn['finish'][] = ['stop', 'length', 'cancelled', 'streaming', 'interrupted'];

type Fields = Record<string, unknown>;
const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function isImageFile(v: unknown): v is ImageFile {
  if (!isObject(v)) return false;
  return typeof v.id === 'string' && typeof v.name === 'string' && typeof v.type === 'string' && v.bytes instanceof ArrayBuffer;
}

/** A turn read back, and whether anything in it had to be mended. */
export interface ReadTurn {
  turn: Turn;
  repaired: boolean;
}

function readError(v: unknown): { error: TurnError; repaired: boolean } {
  if (isObject(v) && typeof v.code === 'string' && typeof v.message === 'string') return { error: { code: v.code, message: v.message }, repaired: false };
  // The turn failed once; it stays failed (never sent again) even if why was lost.
  return { error: { code: 'internal', message: 'The stored reason for this failure could not be read.' }, repaired: true };
}

function readUser(o: Fields): ReadTurn | null {
  if (typeof o.id !== 'string' || typeof o.text !== 'string') return null;
  const ids = Array.isArray(o.imageIds) ? o.imageIds : [];
  const imageIds = ids.filter((i): i is string => typeof i === 'string');
  let repaired = !Array.isArray(o.imageIds) || imageIds.length !== ids.length;
  const turn: UserTurn = { role: 'user', id: o.id, text: o.text, imageIds };
  if (o.error !== undefined) {
    const e = readError(o.error);
    turn.error = e.error;
    repaired ||= e.repaired;
  }
  return { turn, repaired };
}

function readStats(v: unknown): AnswerStats | null {
  if (!isObject(v)) return null;
  const keys = ['promptTokens', 'newTokens', 'reusedPositions', 'tokensPerSecond', 'ttftMs'] as const;
  if (!keys.every((k) => isNumber(v[k]))) return null;
  const recomputed = typeof v.recomputed === 'string' ? { recomputed: v.recomputed } : {};
  return { promptTokens: v.promptTokens as number, newTokens: v.newTokens as number, reusedPositions: v.reusedPositions as number, tokensPerSecond: v.tokensPerSecond as number, ttftMs: v.ttftMs as number, ...recomputed };
}

function readObject(v: unknown): GroundedObject | null {
  if (!isObject(v) || typeof v.label !== 'string' || typeof v.partial !== 'boolean' || !isObject(v.box)) return null;
  const b = v.box;
  if (![b.x1, b.y1, b.x2, b.y2].every(isNumber)) return null;
  const obj: GroundedObject = { label: v.label, box: { x1: b.x1 as number, y1: b.y1 as number, x2: b.x2 as number, y2: b.y2 as number }, partial: v.partial };
  if (v.polygon === undefined) return obj;
  const points = Array.isArray(v.polygon) ? v.polygon : [];
  if (points.length === 0 || !points.every((p) => Array.isArray(p) && p.length === 2 && p.every(isNumber))) return null;
  return { ...obj, polygon: points.map((p) => [p[0], p[1]] as [number, number]) };
}

/** A task answer's post-processed regions (Florence-2), so its boxes and quads are drawn again after a reload; null if unreadable. */
function readRegions(v: unknown): TaskRegions | null {
  if (!isObject(v) || typeof v.task !== 'string' || !isObject(v.imageSize) || !Array.isArray(v.objects)) return null;
  const { width, height } = v.imageSize;
  if (!isNumber(width) || !isNumber(height)) return null;
  const objects = v.objects.map(readObject);
  if (objects.some((o) => o === null)) return null;
  if (v.text !== undefined && typeof v.text !== 'string') return null;
  return { task: v.task, imageSize: { width, height }, objects: objects as GroundedObject[], ...(typeof v.text === 'string' ? { text: v.text } : {}) };
}

function readAnswer(o: Fields): ReadTurn | null {
  if (typeof o.id !== 'string' || typeof o.text !== 'string') return null;
  const known = FINISHES.includes(o.finish as AssistantTurn['finish']);
  // An answer whose end state is lost is shown, and sent, as a stopped one.
  const turn: AssistantTurn = { role: 'assistant', id: o.id, text: o.text, finish: known ? (o.finish as AssistantTurn['finish']) : 'cancelled' };
  let repaired = !known;
  if (o.stats !== undefined) {
    const stats = readStats(o.stats);
    if (stats) turn.stats = stats;
    else repaired = true;
  }
  if (o.regions !== undefined) {
    // Unreadable regions are dropped: the answer's text is still shown, and the boxes its text names are parsed from it.
    const regions = readRegions(o.regions);
    if (regions) turn.regions = regions;
    else repaired = true;
  }
  return { turn, repaired };
}

/**
 * A stored turn as the page may use it, or null when too little is left to
 * show it honestly (no id, no role, no text). Unknown extra fields are left out.
 */
export function readTurn(v: unknown): ReadTurn | null {
  if (!isObject(v)) return null;
  if (v.role === 'user') return readUser(v);
  if (v.role === 'assistant') return readAnswer(v);
  return null;
}

/** What one stored turn record turned out to be. */
export type RecordReading =
  | { kind: 'ok'; record: TurnRecord; repaired: boolean }
  | { kind: 'damaged' }
  | { kind: 'old' }
  /** Written by a newer version of the app: left alone, neither shown nor deleted. */
  | { kind: 'newer' };

export function readRecord(key: string, v: unknown): RecordReading {
  if (!isObject(v) || !isNumber(v.format)) return { kind: 'damaged' };
  if (v.format > FORMAT) return { kind: 'newer' };
  // Format 1 had no per-turn records; anything older here cannot be read for what it meant.
  if (v.format < FORMAT) return { kind: 'old' };
  const read = readTurn(v.turn);
  if (!read || key !== turnKey(read.turn.id)) return { kind: 'damaged' };
  let repaired = read.repaired;
  const place: Place = { at: isNumber(v.at) ? v.at : 0, group: typeof v.group === 'string' ? v.group : read.turn.id, seq: isNumber(v.seq) ? v.seq : read.turn.role === 'user' ? 0 : 1 };
  repaired ||= place.at !== v.at || place.group !== v.group || place.seq !== v.seq;
  return { kind: 'ok', record: { format: FORMAT, turn: read.turn, ...place }, repaired };
}

/** What a format-1 `turns` record holds, as records of this format; a record that is not format 1 gives null. */
export function migrateLegacy(v: unknown): { records: TurnRecord[]; repaired: number; dropped: number } | null {
  if (!isObject(v) || v.format !== 1 || !Array.isArray(v.turns)) return null;
  const records: TurnRecord[] = [];
  let repaired = 0;
  let dropped = 0;
  let group = '';
  let at = 0;
  for (const [i, raw] of v.turns.entries()) {
    const read = readTurn(raw);
    if (!read) {
      dropped += 1;
      continue;
    }
    if (read.repaired) repaired += 1;
    // Format 1 kept the order in the list itself; an answer joins the question before it.
    if (read.turn.role === 'user' || !group) {
      group = read.turn.id;
      at = i;
    }
    records.push({ format: FORMAT, turn: read.turn, at, group, seq: read.turn.role === 'user' ? 0 : 1 });
  }
  return { records, repaired, dropped };
}

export function comparePlaces(a: Place, b: Place): number {
  if (a.at !== b.at) return a.at - b.at;
  if (a.group !== b.group) return a.group < b.group ? -1 : 1;
  return a.seq - b.seq;
}

/** The image ids a stored value refers to, whatever its format, so a Clear never deletes an image some record still needs. */
export function referencedImages(v: unknown): string[] {
  const turn = isObject(v) ? v.turn : undefined;
  const ids = isObject(turn) && Array.isArray(turn.imageIds) ? turn.imageIds : [];
  return ids.filter((i): i is string => typeof i === 'string');
}
