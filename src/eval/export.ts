/**
 * An evaluation run as a file: the records with the fields lmms-eval's
 * log_samples writes (doc_id, the prompt as `input`, the raw response in
 * `resps`, the parsed answer in `filtered_resps`, `target`, and the record's
 * metric), plus the metric summary per task, as JSON; and the same records and
 * summary as CSV (RFC 4180) for a spreadsheet. src/eval/export-reader.ts reads
 * the JSON back.
 */
import type { PopeMetrics } from './pope';
import type { ScoreMetric, TaskScore } from './score-records';

export const EVAL_EXPORT_FORMAT = 'webvlm-eval';
export const EVAL_EXPORT_VERSION = 1;

export interface EvalSample {
  /** Position of the record in the run, from 0, as lmms-eval numbers its docs. */
  doc_id: number;
  /** The question's own id (POPE's question_id, a LLaVA record's id and turn). */
  question_id: string | number;
  task: string;
  /** Image file name(s) the question was asked about; '' for none. */
  image: string;
  /** The prompt as the model was given it. */
  input: string;
  /** Raw responses, one list per request, as lmms-eval nests them. */
  resps: string[][];
  /** The answer as the metric read it. */
  filtered_resps: string[];
  target: string;
  metric: ScoreMetric;
  score: number;
}

export interface EvalExport {
  format: typeof EVAL_EXPORT_FORMAT;
  version: typeof EVAL_EXPORT_VERSION;
  /** What was run: model, engine, weights, adapter, date; free-form strings. */
  config: Record<string, string>;
  /** Metric summary per task, as RecordScorer.scores() gives it. */
  results: Record<string, TaskScore>;
  samples: EvalSample[];
}

/** The sample of one scored answer; `doc_id` is its index in the run. */
export function evalSample(docId: number, fields: Omit<EvalSample, 'doc_id' | 'resps' | 'filtered_resps'> & { response: string; parsed: string }): EvalSample {
  const { response, parsed, ...rest } = fields;
  return { doc_id: docId, ...rest, resps: [[response]], filtered_resps: [parsed] };
}

export function buildEvalExport(config: Record<string, string>, results: Record<string, TaskScore>, samples: EvalSample[]): EvalExport {
  return { format: EVAL_EXPORT_FORMAT, version: EVAL_EXPORT_VERSION, config, results, samples };
}

export function evalExportJson(e: EvalExport): string {
  return `${JSON.stringify(e, null, 2)}\n`;
}

/** RFC 4180: a field with a comma, quote, CR or LF is quoted, its quotes doubled; records end in CRLF. */
export function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function toCsv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [header, ...rows].map((r) => `${r.map(csvField).join(',')}\r\n`).join('');
}

const SAMPLE_COLUMNS = ['doc_id', 'question_id', 'task', 'image', 'input', 'response', 'parsed', 'target', 'metric', 'score'] as const;

export function samplesCsv(samples: readonly EvalSample[]): string {
  const rows = samples.map((s) => [s.doc_id, s.question_id, s.task, s.image, s.input, s.resps.flat().join('\n'), s.filtered_resps.join('\n'), s.target, s.metric, s.score]);
  return toCsv(SAMPLE_COLUMNS, rows);
}

const POPE_COLUMNS = ['accuracy', 'precision', 'recall', 'f1', 'yesRatio', 'tp', 'fp', 'tn', 'fn'] as const satisfies readonly (keyof PopeMetrics)[];

/** One row per task; the POPE columns are empty for other metrics. */
export function resultsCsv(results: Record<string, TaskScore>): string {
  const header = ['task', 'n', 'metric', 'score', ...POPE_COLUMNS.map((c) => (c === 'yesRatio' ? 'yes_ratio' : c))];
  const rows = Object.entries(results).map(([task, r]) => [task, r.n, r.metric, r.score, ...POPE_COLUMNS.map((c) => (r.pope ? r.pope[c] : ''))]);
  return toCsv(header, rows);
}
