/**
 * Reads an evaluation export (src/eval/export.ts) back and checks every field,
 * so a file from another version or another tool fails with the path of the
 * first wrong field instead of showing wrong numbers.
 */
import type { EvalExport, EvalSample } from './export';
import { EVAL_EXPORT_FORMAT, EVAL_EXPORT_VERSION } from './export';
import type { PopeMetrics } from './pope';
import type { TaskScore } from './score-records';
import { isScoreMetric } from './score-records';

export class EvalExportError extends Error {
  constructor(
    /** Where in the file, e.g. `samples[3].target`; '' for the file itself. */
    readonly path: string,
    readonly reason: string,
  ) {
    super(path ? `evaluation export, ${path}: ${reason}` : `evaluation export: ${reason}`);
    this.name = 'EvalExportError';
  }
}

type Obj = Record<string, unknown>;

function object(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new EvalExportError(path, 'must be an object');
  return v as Obj;
}

function array(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new EvalExportError(path, 'must be an array');
  return v;
}

function string(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new EvalExportError(path, 'must be a string');
  return v;
}

function number(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new EvalExportError(path, 'must be a finite number');
  return v;
}

function count(v: unknown, path: string): number {
  const n = number(v, path);
  if (!Number.isInteger(n) || n < 0) throw new EvalExportError(path, 'must be a whole number >= 0');
  return n;
}

const POPE_COUNTS = ['tp', 'fp', 'tn', 'fn', 'n'] as const;
const POPE_RATES = ['accuracy', 'precision', 'recall', 'f1', 'yesRatio'] as const;

function readPope(v: unknown, path: string): PopeMetrics {
  const o = object(v, path);
  const out = {} as PopeMetrics;
  for (const k of POPE_COUNTS) out[k] = count(o[k], `${path}.${k}`);
  for (const k of POPE_RATES) out[k] = number(o[k], `${path}.${k}`);
  return out;
}

function readMme(v: unknown, path: string): NonNullable<TaskScore['mme']> {
  const o = object(v, path);
  return { images: count(o['images'], `${path}.images`), accuracy: number(o['accuracy'], `${path}.accuracy`), accuracyPlus: number(o['accuracyPlus'], `${path}.accuracyPlus`) };
}

function readTaskScore(v: unknown, path: string): TaskScore {
  const o = object(v, path);
  const metric = string(o['metric'], `${path}.metric`);
  if (!isScoreMetric(metric)) throw new EvalExportError(`${path}.metric`, `unknown metric ${JSON.stringify(metric)}`);
  const score: TaskScore = { n: count(o['n'], `${path}.n`), metric, score: number(o['score'], `${path}.score`) };
  if (o['pope'] !== undefined) score.pope = readPope(o['pope'], `${path}.pope`);
  if (o['mme'] !== undefined) score.mme = readMme(o['mme'], `${path}.mme`);
  return score;
}

function readSample(v: unknown, path: string): EvalSample {
  const o = object(v, path);
  const id = o['question_id'];
  if (typeof id !== 'string' && typeof id !== 'number') throw new EvalExportError(`${path}.question_id`, 'must be a string or a number');
  const metric = string(o['metric'], `${path}.metric`);
  if (!isScoreMetric(metric)) throw new EvalExportError(`${path}.metric`, `unknown metric ${JSON.stringify(metric)}`);
  return {
    doc_id: count(o['doc_id'], `${path}.doc_id`),
    question_id: id,
    task: string(o['task'], `${path}.task`),
    image: string(o['image'], `${path}.image`),
    input: string(o['input'], `${path}.input`),
    resps: array(o['resps'], `${path}.resps`).map((r, i) => array(r, `${path}.resps[${i}]`).map((s, j) => string(s, `${path}.resps[${i}][${j}]`))),
    filtered_resps: array(o['filtered_resps'], `${path}.filtered_resps`).map((s, i) => string(s, `${path}.filtered_resps[${i}]`)),
    target: string(o['target'], `${path}.target`),
    metric,
    score: number(o['score'], `${path}.score`),
  };
}

/** The export in `text`, checked field by field; throws EvalExportError naming the first wrong one. */
export function readEvalExport(text: string): EvalExport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new EvalExportError('', `not JSON (${(e as Error).message})`);
  }
  const o = object(value, '');
  if (o['format'] !== EVAL_EXPORT_FORMAT) throw new EvalExportError('format', `must be ${JSON.stringify(EVAL_EXPORT_FORMAT)}`);
  if (o['version'] !== EVAL_EXPORT_VERSION) throw new EvalExportError('version', `must be ${EVAL_EXPORT_VERSION}, this reader's version`);
  const config = Object.fromEntries(Object.entries(object(o['config'], 'config')).map(([k, v]) => [k, string(v, `config.${k}`)]));
  const results = Object.fromEntries(Object.entries(object(o['results'], 'results')).map(([k, v]) => [k, readTaskScore(v, `results.${k}`)]));
  const samples = array(o['samples'], 'samples').map((s, i) => readSample(s, `samples[${i}]`));
  return { format: EVAL_EXPORT_FORMAT, version: EVAL_EXPORT_VERSION, config, results, samples };
}
