/**
 * The evaluation job: a benchmark's questions (evaluate-plan.ts) asked one by
 * one of the loaded model, each answer scored as it comes (src/eval), with
 * progress per answer and a Stop that keeps what was scored. One run at a
 * time; the last finished (or stopped) run is kept in IndexedDB so a reload
 * shows it.
 */
import { buildEvalExport, evalExportJson, evalSample, resultsCsv, samplesCsv } from '../../eval/export';
import { RecordScorer } from '../../eval/score-records';
import type { ChatReply, ChatRequest, LoadedModel } from '../api';
import type { KvStore } from '../cache/kv';
import { toApiError, VlmError, type ApiError } from '../errors';
import { EVAL_MAX_NEW_TOKENS } from './eval-questions';
import { planEvaluation, type EvalItem, type EvalPlan } from './evaluate-plan';
import type { EvaluationEvent, EvaluationRecord, EvaluationRequest, EvaluationResult, ReadImage } from './evaluate-types';

/** The stored run's format; bump when EvaluationResult changes shape. */
export const EVALUATION_STORE_VERSION = 1;
const LAST_RUN_KEY = 'last-run';

export interface EvaluationDeps {
  chat(request: ChatRequest): Promise<ChatReply>;
  stopChat(): boolean;
  loaded(): LoadedModel | null;
  store: KvStore;
}

/** Errors that end a run but keep what was scored; any other error of one question fails the whole run. */
const STOPPING = new Set(['cancelled', 'no-model', 'device-lost', 'busy']);
/** An image that cannot be decoded is skipped like a missing one. */
const SKIPPING = new Set(['bad-image', 'bad-input']);

interface Run {
  plan: EvalPlan;
  scorer: RecordScorer;
  records: EvaluationRecord[];
  skipped: number;
  missingImages: string[];
  t0: number;
}

function record(run: Run, item: EvalItem, answer: string): EvaluationRecord {
  const r = run.scorer.add({ task: item.task, pred: answer, gold: item.truth });
  const correct = r.metric === 'cer' ? r.score === 0 : r.score === 1;
  const out = { docId: run.records.length, questionId: item.questionId, task: item.task, image: item.image, question: item.question, answer, parsed: r.parsed, truth: item.truth, correct, score: r.score };
  run.records.push(out);
  return out;
}

function modelConfig(model: LoadedModel): Record<string, string> {
  return { model: model.id, engine: model.engine, dtype: model.dtype, date: new Date().toISOString() };
}

function finish(run: Run, request: EvaluationRequest, config: Record<string, string>, stopped: ApiError | null): EvaluationResult {
  const results = run.scorer.scores();
  const samples = run.records.map((r) =>
    evalSample(r.docId, { question_id: r.questionId, task: r.task, image: r.image, input: r.question, target: r.truth, metric: results[r.task]?.metric ?? 'exact_match', score: r.score, response: r.answer, parsed: r.parsed }),
  );
  const file = buildEvalExport(config, results, samples);
  return {
    version: EVALUATION_STORE_VERSION,
    benchmark: request.benchmark,
    title: run.plan.title,
    config,
    total: run.plan.items.length,
    skipped: run.skipped,
    missingImages: run.missingImages,
    results,
    records: run.records,
    stopped,
    ms: performance.now() - run.t0,
    json: evalExportJson(file),
    csv: samplesCsv(samples),
    summaryCsv: resultsCsv(results),
  };
}

export class EvaluationJob {
  private running: AbortController | null = null;

  constructor(private readonly deps: EvaluationDeps) {}

  async run(request: EvaluationRequest, read?: ReadImage, onEvent?: (e: EvaluationEvent) => void): Promise<EvaluationResult> {
    if (this.running) throw new VlmError('busy', 'An evaluation is already running; stop it or wait for it to finish.');
    const model = this.deps.loaded();
    if (!model) throw new VlmError('no-model', 'No model is loaded; load one in the Chat view first.');
    const plan = planEvaluation(request, read);
    const controller = new AbortController();
    this.running = controller;
    try {
      const run: Run = { plan, scorer: new RecordScorer(request.benchmark === 'llava' ? request.metric : undefined), records: [], skipped: plan.skipped, missingImages: [...plan.missingImages], t0: performance.now() };
      onEvent?.({ type: 'planned', total: plan.items.length, skipped: plan.skipped, missingImages: plan.missingImages });
      const stopped = await this.ask(run, controller.signal, onEvent);
      const result = finish(run, request, { ...modelConfig(model), ...plan.config }, stopped);
      await this.deps.store.set(LAST_RUN_KEY, result);
      return result;
    } finally {
      this.running = null;
    }
  }

  /** Asks every question in turn; returns why it stopped early, or null. */
  private async ask(run: Run, signal: AbortSignal, onEvent?: (e: EvaluationEvent) => void): Promise<ApiError | null> {
    const total = run.plan.items.length;
    for (const item of run.plan.items) {
      if (signal.aborted) return { code: 'cancelled', message: 'Stopped; the answers scored so far are kept.' };
      try {
        const images = await item.images();
        const reply = await this.deps.chat({ messages: item.messages, images, options: { maxNewTokens: EVAL_MAX_NEW_TOKENS } });
        if (reply.finishReason === 'cancelled') return { code: 'cancelled', message: 'Stopped; the answers scored so far are kept.' };
        const r = record(run, item, reply.text.trim());
        onEvent?.({ type: 'answered', done: run.records.length, total, elapsedMs: performance.now() - run.t0, record: r });
      } catch (err) {
        const e = toApiError(err);
        if (STOPPING.has(e.code)) return e;
        if (!SKIPPING.has(e.code) || item.image === '') throw err;
        run.skipped++;
        run.missingImages.push(`${item.image} (${e.message})`);
      }
    }
    return null;
  }

  /** Stops the running evaluation after the answer being generated (cut short); false when none runs. */
  stop(): boolean {
    if (!this.running) return false;
    this.running.abort();
    this.deps.stopChat();
    return true;
  }

  /** The last finished or stopped run, or null (none yet, or stored by another version). */
  async last(): Promise<EvaluationResult | null> {
    const stored = (await this.deps.store.get(LAST_RUN_KEY)) as EvaluationResult | undefined;
    return stored?.version === EVALUATION_STORE_VERSION ? stored : null;
  }
}
