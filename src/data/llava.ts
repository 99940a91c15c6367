/**
 * LLaVA conversation JSON, the format LLaVA, ShareGPT4V and most VLM trainers
 * read: an array of records
 *   {"id": "...", "image": "images/x.png" | ["images/a.png", "images/b.png"],
 *    "conversations": [{"from": "human", "value": "<image>\n..."}, {"from": "gpt", "value": "..."}, ...],
 *    "task": "vqa-colour"}
 * Image paths are relative to the JSON file. Turns alternate human, gpt,
 * starting with human and ending with gpt; the human turns together hold one
 * "<image>" per image. "task" is our addition (readers that do not know it
 * ignore it); other unknown keys are allowed and dropped.
 */
import type { Sample } from './tasks/types';
import { IMAGE_TOKEN } from './tasks/types';

export interface LlavaTurn {
  readonly from: 'human' | 'gpt';
  readonly value: string;
}

export interface LlavaRecord {
  readonly id: string;
  readonly image?: string | readonly string[];
  readonly conversations: readonly LlavaTurn[];
  readonly task?: string;
  /** Several human answers to the first question (VQAv2 gives ten), for soft accuracy; the gpt turn stays the reference answer. */
  readonly answers?: readonly string[];
}

/** A malformed record: `index` is its position in the array (-1 when the file itself is wrong). */
export class LlavaFormatError extends Error {
  constructor(
    readonly index: number,
    readonly reason: string,
  ) {
    super(index < 0 ? `LLaVA JSON: ${reason}` : `LLaVA JSON record ${index}: ${reason}`);
    this.name = 'LlavaFormatError';
  }
}

export function toLlavaRecord(sample: Sample, imageDir = 'images'): LlavaRecord {
  const paths = sample.imageNames.map((n) => `${imageDir}/${n}`);
  return {
    id: sample.id,
    image: paths.length === 1 ? paths[0] : paths,
    conversations: sample.conversations,
    task: sample.task,
  };
}

/** One record per line inside the array: valid JSON that still diffs and greps line by line. */
export function serialiseLlava(records: readonly LlavaRecord[]): string {
  if (records.length === 0) return '[]\n';
  return `[\n${records.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`;
}

function countImageTokens(s: string): number {
  return s.split(IMAGE_TOKEN).length - 1;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The record's image paths, or a reason they are malformed. */
function checkImages(image: unknown): string[] | string {
  if (image === undefined) return [];
  if (typeof image === 'string') return image.length > 0 ? [image] : 'image is an empty string';
  if (!Array.isArray(image)) return `image must be a string or an array of strings, got ${typeof image}`;
  if (image.length === 0) return 'image is an empty array';
  for (const [i, p] of image.entries()) {
    if (typeof p !== 'string' || p.length === 0) return `image[${i}] must be a non-empty string`;
  }
  return image as string[];
}

function checkTurn(turn: unknown, i: number): LlavaTurn | string {
  if (!isObject(turn)) return `conversations[${i}] must be an object`;
  const want = i % 2 === 0 ? 'human' : 'gpt';
  if (turn.from !== want) return `conversations[${i}].from must be "${want}", got ${JSON.stringify(turn.from)}`;
  if (typeof turn.value !== 'string') return `conversations[${i}].value must be a string`;
  if (turn.value.trim().length === 0) return `conversations[${i}].value is empty`;
  if (want === 'gpt' && countImageTokens(turn.value) > 0) return `conversations[${i}] is a gpt turn holding ${IMAGE_TOKEN}`;
  return { from: want, value: turn.value };
}

function checkConversations(c: unknown, imageCount: number): LlavaTurn[] | string {
  if (!Array.isArray(c)) return 'conversations must be an array';
  if (c.length === 0) return 'conversations is empty';
  const turns: LlavaTurn[] = [];
  for (const [i, t] of c.entries()) {
    const turn = checkTurn(t, i);
    if (typeof turn === 'string') return turn;
    turns.push(turn);
  }
  if (turns.length % 2 !== 0) return 'conversations must end with a gpt turn';
  const tokens = turns.reduce((n, t) => n + countImageTokens(t.value), 0);
  if (tokens !== imageCount) return `${tokens} ${IMAGE_TOKEN} token(s) for ${imageCount} image(s)`;
  return turns;
}

/** Checks one record; returns it in canonical form or the reason it is malformed. */
export function checkLlavaRecord(value: unknown): LlavaRecord | string {
  if (!isObject(value)) return 'record must be an object';
  if (value.id === undefined) return 'missing id';
  if (typeof value.id !== 'string' || value.id.length === 0) return 'id must be a non-empty string';
  const images = checkImages(value.image);
  if (typeof images === 'string') return images;
  if (value.conversations === undefined) return 'missing conversations';
  const turns = checkConversations(value.conversations, images.length);
  if (typeof turns === 'string') return turns;
  if (value.task !== undefined && typeof value.task !== 'string') return 'task must be a string';
  const answers = value.answers;
  if (answers !== undefined && (!Array.isArray(answers) || answers.length === 0 || !answers.every((a) => typeof a === 'string'))) return 'answers must be a non-empty array of strings';
  const record: LlavaRecord = { id: value.id, conversations: turns };
  return {
    ...record,
    ...(value.image !== undefined ? { image: value.image as string | string[] } : {}),
    ...(value.task !== undefined ? { task: value.task as string } : {}),
    ...(answers !== undefined ? { answers: answers as string[] } : {}),
  };
}

/** Every record of a parsed list checked: the good ones with their index, and each bad one's index and reason. */
export function checkLlavaRecords(
  values: readonly unknown[],
  seen: Set<string> = new Set(),
): { records: { index: number; record: LlavaRecord }[]; problems: { index: number; reason: string }[] } {
  const records: { index: number; record: LlavaRecord }[] = [];
  const problems: { index: number; reason: string }[] = [];
  values.forEach((value, index) => {
    const r = checkLlavaRecord(value);
    if (typeof r === 'string') problems.push({ index, reason: r });
    else if (seen.has(r.id)) problems.push({ index, reason: `duplicate id ${JSON.stringify(r.id)}` });
    else {
      seen.add(r.id);
      records.push({ index, record: r });
    }
  });
  return { records, problems };
}

/** Validates a parsed dataset; throws LlavaFormatError naming the first bad record and why. */
export function validateLlava(data: unknown): LlavaRecord[] {
  if (!Array.isArray(data)) throw new LlavaFormatError(-1, 'the top level must be an array of records');
  const { records, problems } = checkLlavaRecords(data);
  const first = problems[0];
  if (first) throw new LlavaFormatError(first.index, first.reason);
  return records.map((r) => r.record);
}

export function readLlavaJson(text: string): LlavaRecord[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new LlavaFormatError(-1, `not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  return validateLlava(data);
}

/** The record's images as a list, whichever form the file used. */
export function recordImages(r: LlavaRecord): readonly string[] {
  return r.image === undefined ? [] : typeof r.image === 'string' ? [r.image] : r.image;
}
