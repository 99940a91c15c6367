/**
 * Where evaluations are kept in IndexedDB: the last finished (or stopped) runs
 * with a small index to list them, and the answers so far of the run under
 * way, saved as it goes so a reload can resume it.
 */
import type { KvStore } from '../cache/kv';
import type { EvaluationRecord, EvaluationRequest, EvaluationResult, SavedEvaluation, UnfinishedEvaluation } from './evaluate-types';
import { MME_TOTAL } from './evaluate-mme';

/** The stored format; bump when EvaluationResult or the unfinished record changes shape. */
export const EVALUATION_STORE_VERSION = 2;
/** Finished runs kept; the oldest goes when another lands. */
export const KEPT_RUNS = 10;

const INDEX_KEY = 'runs';
const UNFINISHED_KEY = 'unfinished';
/** Version 1 kept one run under this key; its shape lacks the id, so it is dropped, not migrated. */
const V1_KEY = 'last-run';
const runKey = (id: string) => `run:${id}`;

/** What an unfinished run keeps between saves: enough to re-plan it and skip what was answered. */
export interface UnfinishedState extends UnfinishedEvaluation {
  version: number;
  id: string;
  request: EvaluationRequest;
  config: Record<string, string>;
  records: EvaluationRecord[];
  elapsedMs: number;
}

/** The headline of a run: mean F1 over POPE splits, MME's total, else the mean score over tasks. */
export function headline(results: EvaluationResult['results']): { metric: string; value: number } | null {
  const scores = Object.values(results);
  if (scores.length === 0) return null;
  // MME reports the sum over subtasks; a mean of the subtasks and that sum would be neither.
  const mme = results[MME_TOTAL];
  if (mme) return { metric: 'mme', value: mme.score };
  const pope = scores.flatMap((s) => (s.pope ? [s.pope.f1] : []));
  if (pope.length === scores.length) return { metric: 'F1', value: pope.reduce((a, b) => a + b, 0) / pope.length };
  const metrics = new Set(scores.map((s) => s.metric));
  return { metric: metrics.size === 1 ? [...metrics][0] ?? 'score' : 'mean score', value: scores.reduce((a, s) => a + s.score, 0) / scores.length };
}

export function summary(r: EvaluationResult): SavedEvaluation {
  return {
    id: r.id,
    date: r.config['date'] ?? '',
    title: r.title,
    benchmark: r.benchmark,
    model: r.config['model'] ?? '',
    engine: r.config['engine'] ?? '',
    weights: r.config['weights'] ?? '',
    answered: r.records.length,
    total: r.total,
    stopped: r.stopped !== null,
    headline: headline(r.results),
  };
}

export class EvaluationStore {
  private migrated = false;

  constructor(private readonly kv: KvStore) {}

  private async index(): Promise<SavedEvaluation[]> {
    if (!this.migrated) {
      this.migrated = true;
      await this.kv.del(V1_KEY);
    }
    const stored = (await this.kv.get(INDEX_KEY)) as { version: number; runs: SavedEvaluation[] } | undefined;
    return stored?.version === EVALUATION_STORE_VERSION ? stored.runs : [];
  }

  /** Newest first. */
  list(): Promise<SavedEvaluation[]> {
    return this.index();
  }

  async get(id: string): Promise<EvaluationResult | null> {
    const r = (await this.kv.get(runKey(id))) as EvaluationResult | undefined;
    return r?.version === EVALUATION_STORE_VERSION ? r : null;
  }

  async add(result: EvaluationResult): Promise<void> {
    const runs = [summary(result), ...(await this.index())];
    for (const old of runs.splice(KEPT_RUNS)) await this.kv.del(runKey(old.id));
    await this.kv.set(runKey(result.id), result);
    await this.kv.set(INDEX_KEY, { version: EVALUATION_STORE_VERSION, runs });
  }

  async delete(id: string): Promise<boolean> {
    const runs = await this.index();
    const kept = runs.filter((r) => r.id !== id);
    await this.kv.del(runKey(id));
    await this.kv.set(INDEX_KEY, { version: EVALUATION_STORE_VERSION, runs: kept });
    return kept.length < runs.length;
  }

  async unfinished(): Promise<UnfinishedState | null> {
    const u = (await this.kv.get(UNFINISHED_KEY)) as UnfinishedState | undefined;
    return u?.version === EVALUATION_STORE_VERSION ? u : null;
  }

  saveUnfinished(state: UnfinishedState): Promise<void> {
    return this.kv.set(UNFINISHED_KEY, state);
  }

  dropUnfinished(): Promise<void> {
    return this.kv.del(UNFINISHED_KEY);
  }
}
