/**
 * The evaluation job: a benchmark's questions (evaluate-plan.ts) asked one by
 * one of the loaded model, each answer scored as it comes (src/eval), with
 * progress per answer and a Stop that keeps what was scored. One run at a
 * time; finished (or stopped) runs are kept in IndexedDB (evaluate-store.ts),
 * and the answers of the run under way are saved as it goes, so a reload can
 * resume it and end with the records an uninterrupted run gives.
 */
import { buildEvalExport, evalExportJson, evalSample, resultsCsv, samplesCsv } from '../../eval/export';
import type { ChatReply, ChatRequest, LoadedModel } from '../api';
import type { KvStore } from '../cache/kv';
import { toApiError, VlmError, type ApiError } from '../errors';
import { EVAL_MAX_NEW_TOKENS } from './eval-questions';
import { recordItemScorer, type ItemScorer } from './evaluate-item';
import { planEvaluation, type EvalItem, type EvalPlan } from './evaluate-plan';
import { EVALUATION_STORE_VERSION, EvaluationStore, type UnfinishedState } from './evaluate-store';
import type { EvaluationEvent, EvaluationRecord, EvaluationRequest, EvaluationResult, ReadImage, SavedEvaluation, UnfinishedEvaluation } from './evaluate-types';

export { EVALUATION_STORE_VERSION } from './evaluate-store';

/** The answers of a running evaluation are saved after this many new ones, or this long after the last save. */
const SAVE_EVERY_ANSWERS = 10;
const SAVE_EVERY_MS = 2000;

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
  id: string;
  request: EvaluationRequest;
  config: Record<string, string>;
  plan: EvalPlan;
  scorer: ItemScorer;
  records: EvaluationRecord[];
  skipped: number;
  missingImages: string[];
  t0: number;
  /** Records at the last save of the unfinished run, and when it was. */
  saved: { count: number; at: number };
}

function record(run: Run, item: EvalItem, answer: string): EvaluationRecord {
  const r = run.scorer.add(item, answer);
  const out = { docId: run.records.length, questionId: item.questionId, task: item.task, image: item.image, question: item.question, answer, parsed: r.parsed, truth: item.truth, correct: r.correct, score: r.score };
  run.records.push(out);
  return out;
}

function modelConfig(model: LoadedModel): Record<string, string> {
  // Adapters are not loadable yet, so every run is the base model's.
  return { model: model.id, engine: model.engine, dtype: model.dtype, weights: model.dtype, adapter: 'none', date: new Date().toISOString() };
}

const itemKey = (task: string, questionId: string | number) => `${task}\u0000${String(questionId)}`;

function finish(run: Run, stopped: ApiError | null): EvaluationResult {
  const { request, config } = run;
  const results = run.scorer.scores();
  const samples = run.records.map((r) =>
    evalSample(r.docId, { question_id: r.questionId, task: r.task, image: r.image, input: r.question, target: r.truth, metric: results[r.task]?.metric ?? 'exact_match', score: r.score, response: r.answer, parsed: r.parsed }),
  );
  const file = buildEvalExport(config, results, samples);
  return {
    version: EVALUATION_STORE_VERSION,
    id: run.id,
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

const unfinishedView = (u: UnfinishedState): UnfinishedEvaluation => ({ title: u.title, benchmark: u.benchmark, done: u.done, total: u.total, needsFiles: u.needsFiles });

export class EvaluationJob {
  private running: AbortController | null = null;
  private readonly store: EvaluationStore;

  constructor(private readonly deps: EvaluationDeps) {
    this.store = new EvaluationStore(deps.store);
  }

  /** `signal` (the job queue's) stops the run as stop() does, e.g. when a load replaces the model. */
  async run(request: EvaluationRequest, read?: ReadImage, onEvent?: (e: EvaluationEvent) => void, signal?: AbortSignal): Promise<EvaluationResult> {
    const model = this.startable();
    const plan = planEvaluation(request, read);
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    return this.go({ id, request, config: { ...modelConfig(model), ...plan.config }, plan, records: [], elapsedMs: 0 }, onEvent, signal);
  }

  /**
   * Finishes the run a reload cut short: the same questions re-planned from
   * the stored request (over `imageNames`, picked again, when it read the
   * user's files), those already answered kept and not asked again.
   */
  async resume(imageNames: string[], read?: ReadImage, onEvent?: (e: EvaluationEvent) => void, signal?: AbortSignal): Promise<EvaluationResult> {
    const model = this.startable();
    const u = await this.store.unfinished();
    if (!u) throw new VlmError('bad-input', 'There is no unfinished evaluation to resume.');
    if (u.config['model'] !== model.id || u.config['engine'] !== model.engine || u.config['weights'] !== model.dtype)
      throw new VlmError('bad-input', `This run was started on ${u.config['model']} (${u.config['engine']}, ${u.config['weights']}); load that model to resume it.`);
    const request = u.request.benchmark === 'pope-synthetic' ? u.request : { ...u.request, imageNames };
    const plan = planEvaluation(request, read);
    const answered = new Set(u.records.map((r) => itemKey(r.task, r.questionId)));
    plan.items = plan.items.filter((item) => !answered.has(itemKey(item.task, item.questionId)));
    return this.go({ id: u.id, request, config: u.config, plan, records: u.records, elapsedMs: u.elapsedMs }, onEvent, signal);
  }

  private startable(): LoadedModel {
    if (this.running) throw new VlmError('busy', 'An evaluation is already running; stop it or wait for it to finish.');
    const model = this.deps.loaded();
    if (!model) throw new VlmError('no-model', 'No model is loaded; load one in the Chat view first.');
    return model;
  }

  private async go(
    start: { id: string; request: EvaluationRequest; config: Record<string, string>; plan: EvalPlan; records: EvaluationRecord[]; elapsedMs: number },
    onEvent?: (e: EvaluationEvent) => void,
    signal?: AbortSignal,
  ): Promise<EvaluationResult> {
    const { plan, request } = start;
    const controller = new AbortController();
    this.running = controller;
    const stopOnSignal = () => this.stop();
    if (signal?.aborted) controller.abort();
    signal?.addEventListener('abort', stopOnSignal, { once: true });
    try {
      const scorer = plan.scorer ?? recordItemScorer(request.benchmark === 'llava' ? request.metric : undefined);
      // Re-scoring the kept answers rebuilds the scorer's tallies exactly as if they had just been given.
      for (const r of start.records) scorer.add(r, r.answer);
      const t0 = performance.now() - start.elapsedMs;
      const run: Run = { ...start, scorer, records: [...start.records], skipped: plan.skipped, missingImages: [...plan.missingImages], t0, saved: { count: start.records.length, at: performance.now() } };
      const total = run.records.length + plan.items.length;
      onEvent?.({ type: 'planned', total, skipped: plan.skipped, missingImages: plan.missingImages });
      await this.save(run, total);
      const stopped = await this.ask(run, controller.signal, onEvent);
      const result = { ...finish(run, stopped), total };
      await this.store.add(result);
      await this.store.dropUnfinished();
      return result;
    } finally {
      signal?.removeEventListener('abort', stopOnSignal);
      this.running = null;
    }
  }

  /** Saves the answers so far, so a reload can resume from them. */
  private async save(run: Run, total: number): Promise<void> {
    run.saved = { count: run.records.length, at: performance.now() };
    await this.store.saveUnfinished({
      version: EVALUATION_STORE_VERSION,
      id: run.id,
      title: run.plan.title,
      benchmark: run.request.benchmark,
      done: run.records.length,
      total,
      needsFiles: run.request.benchmark !== 'pope-synthetic',
      request: run.request,
      config: run.config,
      records: run.records,
      elapsedMs: performance.now() - run.t0,
    });
  }

  /** Asks every question in turn; returns why it stopped early, or null. */
  private async ask(run: Run, signal: AbortSignal, onEvent?: (e: EvaluationEvent) => void): Promise<ApiError | null> {
    const total = run.records.length + run.plan.items.length;
    for (const item of run.plan.items) {
      if (signal.aborted) return { code: 'cancelled', message: 'Stopped; the answers scored so far are kept.' };
      try {
        const images = await item.images();
        const reply = await this.deps.chat({ messages: item.messages, images, options: { maxNewTokens: EVAL_MAX_NEW_TOKENS } });
        if (reply.finishReason === 'cancelled') return { code: 'cancelled', message: 'Stopped; the answers scored so far are kept.' };
        const r = record(run, item, reply.text.trim());
        onEvent?.({ type: 'answered', done: run.records.length, total, elapsedMs: performance.now() - run.t0, record: r });
        if (run.records.length - run.saved.count >= SAVE_EVERY_ANSWERS || performance.now() - run.saved.at >= SAVE_EVERY_MS) await this.save(run, total);
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

  /** The newest kept run, or null (none yet, or stored by another version). */
  async last(): Promise<EvaluationResult | null> {
    const [newest] = await this.store.list();
    return newest ? this.store.get(newest.id) : null;
  }

  /** The kept runs, newest first. */
  list(): Promise<SavedEvaluation[]> {
    return this.store.list();
  }

  get(id: string): Promise<EvaluationResult | null> {
    return this.store.get(id);
  }

  delete(id: string): Promise<boolean> {
    return this.store.delete(id);
  }

  /** The run a reload cut short, while none runs; null when there is none. */
  async unfinished(): Promise<UnfinishedEvaluation | null> {
    if (this.running) return null;
    const u = await this.store.unfinished();
    return u ? unfinishedView(u) : null;
  }
}
