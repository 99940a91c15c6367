/** Command-line options of make-data.ts, checked up front so a typo fails before any file is written. */
import type { SplitOptions } from '../src/data/split';
import type { TaskName } from '../src/data/tasks/registry';
import { isTaskName, TASK_NAMES } from '../src/data/tasks/registry';
import { DEFAULT_TASK_OPTIONS } from '../src/data/tasks/types';
import type { HeldOutMode } from '../src/data/vocabulary';
import { HELD_OUT_MODES } from '../src/data/vocabulary';

export interface CliOptions extends SplitOptions {
  readonly out: string;
  readonly masks: boolean;
  readonly force: boolean;
}

export const USAGE = `usage: npm run data -- --out DIR [--seed N] [--count K] [--tasks a,b,...]
  [--held-out ${HELD_OUT_MODES.join('|')}] [--min-objects N] [--max-objects N] [--image-size PX] [--masks] [--force]
tasks: ${TASK_NAMES.join(', ')}`;

const FLAGS = new Set(['masks', 'force']);
const VALUED = new Set(['out', 'seed', 'count', 'tasks', 'held-out', 'min-objects', 'max-objects', 'image-size']);

function readPairs(argv: readonly string[]): Map<string, string> | string {
  const got = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const name = arg.replace(/^--/, '');
    if (!arg.startsWith('--') || (!FLAGS.has(name) && !VALUED.has(name))) return `unknown argument ${arg}`;
    if (FLAGS.has(name)) {
      got.set(name, 'true');
      continue;
    }
    const v = argv[++i];
    if (v === undefined) return `${arg} needs a value`;
    got.set(name, v);
  }
  return got;
}

function int(got: Map<string, string>, name: string, fallback: number, min: number): number | string {
  const v = got.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  return Number.isInteger(n) && n >= min ? n : `--${name} must be an integer >= ${min}, got ${v}`;
}

function tasksOf(got: Map<string, string>): TaskName[] | string {
  const v = got.get('tasks');
  if (v === undefined) return [...TASK_NAMES];
  const names = v.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  const bad = names.filter((t) => !isTaskName(t));
  if (bad.length > 0 || names.length === 0) return `unknown task(s): ${bad.join(', ') || '(none given)'}`;
  return names as TaskName[];
}

/** The options, or a message saying what is wrong. */
export function parseArgs(argv: readonly string[]): CliOptions | string {
  const got = readPairs(argv);
  if (typeof got === 'string') return got;
  const out = got.get('out');
  if (!out) return '--out DIR is required';
  const heldOut = got.get('held-out') ?? DEFAULT_TASK_OPTIONS.heldOut;
  if (!(HELD_OUT_MODES as readonly string[]).includes(heldOut)) return `--held-out must be one of ${HELD_OUT_MODES.join(', ')}`;
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
  return { ...n, out, tasks, heldOut: heldOut as HeldOutMode, masks: got.has('masks'), force: got.has('force') };
}
