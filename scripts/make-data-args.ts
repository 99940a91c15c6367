/** Command-line options of make-data.ts, checked up front so a typo fails before any file is written. */
import type { ParseArgsConfig } from 'node:util';
import { parseArgs as parseArgv } from 'node:util';
import type { SplitOptions } from '../src/data/split';
import type { TaskName } from '../src/data/tasks/registry';
import { isTaskName, TASK_NAMES } from '../src/data/tasks/registry';
import { DEFAULT_TASK_OPTIONS } from '../src/data/tasks/types';
import type { WordSource } from '../src/data/real-words';
import { WORD_SOURCES } from '../src/data/real-words';
import type { HeldOutMode } from '../src/data/vocabulary';
import { HELD_OUT_MODES } from '../src/data/vocabulary';

export interface CliOptions extends SplitOptions {
  readonly out: string;
  readonly masks: boolean;
  readonly force: boolean;
}

export const USAGE = `usage: npm run data -- --out DIR [--seed N] [--count K] [--tasks a,b,...]
  [--held-out ${HELD_OUT_MODES.join('|')}] [--words ${WORD_SOURCES.join('|')}] [--min-objects N] [--max-objects N] [--image-size PX] [--masks] [--force]
tasks: ${TASK_NAMES.join(', ')}`;

const OPTIONS = {
  out: { type: 'string' },
  seed: { type: 'string' },
  count: { type: 'string' },
  tasks: { type: 'string' },
  'held-out': { type: 'string' },
  words: { type: 'string' },
  'min-objects': { type: 'string' },
  'max-objects': { type: 'string' },
  'image-size': { type: 'string' },
  masks: { type: 'boolean' },
  force: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

type Values = Partial<Record<keyof typeof OPTIONS, string | boolean>>;

/**
 * node:util's parser, not strict: strict mode refuses a value that starts with a
 * dash, so `--count -4` would never reach the range check that says what to
 * pass. The checks strict mode makes are done on its tokens instead.
 */
function readValues(argv: readonly string[]): Values | string {
  const { values, tokens } = parseArgv({ args: [...argv], options: OPTIONS, strict: false, tokens: true });
  for (const t of tokens) {
    if (t.kind === 'positional') return `unknown argument ${t.value}`;
    if (t.kind !== 'option') continue;
    const type = Object.hasOwn(OPTIONS, t.name) ? OPTIONS[t.name as keyof typeof OPTIONS].type : undefined;
    if (type === undefined) return `unknown argument ${t.rawName}`;
    if (type === 'string' && t.value === undefined) return `${t.rawName} needs a value`;
    if (type === 'boolean' && t.value !== undefined) return `${t.rawName} takes no value`;
  }
  return values as Values;
}

function str(got: Values, name: keyof typeof OPTIONS): string | undefined {
  const v = got[name];
  return typeof v === 'string' ? v : undefined;
}

function int(got: Values, name: keyof typeof OPTIONS, fallback: number, min: number): number | string {
  const v = str(got, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  return Number.isInteger(n) && n >= min ? n : `--${name} must be an integer >= ${min}, got ${v}`;
}

function tasksOf(got: Values): TaskName[] | string {
  const v = str(got, 'tasks');
  if (v === undefined) return [...TASK_NAMES];
  const names = v.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  const bad = names.filter((t) => !isTaskName(t));
  if (bad.length > 0 || names.length === 0) return `unknown task(s): ${bad.join(', ') || '(none given)'}`;
  return names as TaskName[];
}

/** The options, or a message saying what is wrong. */
export function parseArgs(argv: readonly string[]): CliOptions | string {
  const got = readValues(argv);
  if (typeof got === 'string') return got;
  const out = str(got, 'out');
  if (!out) return '--out DIR is required';
  const heldOut = str(got, 'held-out') ?? DEFAULT_TASK_OPTIONS.heldOut;
  if (!(HELD_OUT_MODES as readonly string[]).includes(heldOut)) return `--held-out must be one of ${HELD_OUT_MODES.join(', ')}`;
  const words = str(got, 'words');
  if (words !== undefined && !(WORD_SOURCES as readonly string[]).includes(words)) return `--words must be one of ${WORD_SOURCES.join(', ')}`;
  const d = DEFAULT_TASK_OPTIONS;
  const nums = {
    seed: int(got, 'seed', 0, 0),
    count: int(got, 'count', 100, 1),
    minObjects: int(got, 'min-objects', d.minObjects, 1),
    maxObjects: int(got, 'max-objects', d.maxObjects, 1),
    imageSize: int(got, 'image-size', d.imageSize, 32),
  };
  for (const v of Object.values(nums)) if (typeof v === 'string') return v;
  const n = nums as Record<keyof typeof nums, number>;
  if (n.maxObjects < n.minObjects || n.maxObjects > 5) return '--min-objects <= --max-objects <= 5 is required';
  const tasks = tasksOf(got);
  if (typeof tasks === 'string') return tasks;
  const source = words === undefined ? {} : { words: words as WordSource };
  return { ...n, ...source, out, tasks, heldOut: heldOut as HeldOutMode, masks: got.masks === true, force: got.force === true };
}
