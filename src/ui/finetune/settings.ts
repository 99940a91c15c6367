/**
 * The fine-tune settings as the form holds them (text per field, targets as a
 * list) and their check: every field parsed and bounded, each problem worded
 * for the person with the field it belongs to. Pure, so Node tests check it.
 */
import { DEFAULT_FINETUNE_SETTINGS, LORA_TARGETS, type FinetuneSettings, type LoraTarget } from '../../worker/client';

/** The numeric settings the form edits, in the order it shows them. */
export const NUMERIC_FIELDS = [
  'rank',
  'alpha',
  'dropout',
  'learningRate',
  'warmupSteps',
  'steps',
  'epochs',
  'batchSize',
  'gradAccumulation',
  'maxSeqLength',
  'seed',
  'validationFraction',
  'validateEvery',
  'checkpointEvery',
] as const;

export type NumericField = (typeof NUMERIC_FIELDS)[number];

export interface SettingsInput {
  numbers: Record<NumericField, string>;
  targetModules: readonly string[];
  trainProjector: boolean;
  schedule: string;
  /** Teaching new words (absent: off): LoRA on the vision tower's last N layers, the words whose rows are trained, and their learning rate (empty: the adapter's). */
  newWords?: { visionLastLayers: string; words: string; learningRate: string };
}

export interface SettingsProblem {
  field: NumericField | 'targetModules' | 'schedule' | 'visionLastLayers' | 'newWords' | 'tokenLearningRate';
  message: string;
}

/** The most vision layers the form offers (a tower with fewer refuses the run, saying how many it has). */
export const MAX_VISION_LAYERS = 64;

/** The words of "new words to learn": split on commas and spaces, duplicates dropped, order kept. */
export function splitWords(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter((w) => w !== ''))];
}

interface Bound {
  label: string;
  integer: boolean;
  min: number;
  max: number;
  /** The minimum itself is not allowed (a learning rate of 0 trains nothing). */
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

export const BOUNDS: Record<NumericField, Bound> = {
  rank: { label: 'Rank', integer: true, min: 1, max: 256 },
  alpha: { label: 'Alpha', integer: false, min: 0, max: 4096, minExclusive: true },
  dropout: { label: 'Dropout', integer: false, min: 0, max: 1, maxExclusive: true },
  learningRate: { label: 'Learning rate', integer: false, min: 0, max: 1, minExclusive: true },
  warmupSteps: { label: 'Warm-up steps', integer: true, min: 0, max: 1_000_000 },
  steps: { label: 'Steps', integer: true, min: 0, max: 1_000_000 },
  epochs: { label: 'Epochs', integer: true, min: 0, max: 1000 },
  batchSize: { label: 'Batch size', integer: true, min: 1, max: 256 },
  gradAccumulation: { label: 'Gradient accumulation', integer: true, min: 1, max: 1024 },
  maxSeqLength: { label: 'Max sequence length', integer: true, min: 16, max: 32_768 },
  seed: { label: 'Seed', integer: true, min: 0, max: 2 ** 31 - 1 },
  validationFraction: { label: 'Validation share', integer: false, min: 0, max: 0.5 },
  validateEvery: { label: 'Validate every', integer: true, min: 1, max: 1_000_000 },
  checkpointEvery: { label: 'Checkpoint every', integer: true, min: 1, max: 1_000_000 },
};

/** The form's text for a settings object (the defaults when the view opens). */
export function toInput(s: FinetuneSettings = DEFAULT_FINETUNE_SETTINGS): SettingsInput {
  const numbers = Object.fromEntries(NUMERIC_FIELDS.map((f) => [f, String(s[f])])) as Record<NumericField, string>;
  return {
    numbers,
    targetModules: [...s.targetModules],
    trainProjector: s.trainProjector,
    schedule: s.schedule,
    newWords: { visionLastLayers: String(s.visionLastLayers ?? 0), words: (s.newWords ?? []).join(', '), learningRate: s.tokenLearningRate === undefined ? '' : String(s.tokenLearningRate) },
  };
}

/** The new-words settings, only where they differ from off (so the defaults read back as the defaults). */
function readNewWords(input: SettingsInput['newWords'], problems: SettingsProblem[]): Partial<FinetuneSettings> {
  if (!input) return {};
  const out: Partial<FinetuneSettings> = {};
  const layers = Number(input.visionLastLayers.trim() === '' ? '0' : input.visionLastLayers.trim());
  if (!Number.isInteger(layers) || layers < 0 || layers > MAX_VISION_LAYERS) {
    problems.push({ field: 'visionLastLayers', message: `Vision tower: last N layers must be a whole number from 0 to ${MAX_VISION_LAYERS} (got "${input.visionLastLayers}").` });
  } else if (layers > 0) out.visionLastLayers = layers;
  const words = splitWords(input.words);
  const bad = words.find((w) => !/^[\p{L}\p{N}'-]+$/u.test(w));
  if (bad !== undefined) problems.push({ field: 'newWords', message: `New words must be letters or digits, one word each, separated by commas (got "${bad}").` });
  else if (words.length > 0) out.newWords = words;
  const lr = input.learningRate.trim();
  if (lr !== '') {
    const v = Number(lr);
    if (!Number.isFinite(v) || v <= 0 || v > 1) problems.push({ field: 'tokenLearningRate', message: `The new words' learning rate must be above 0 and at most 1, or empty for the adapter's (got "${input.learningRate}").` });
    else if (words.length > 0) out.tokenLearningRate = v;
  }
  return out;
}

function range(b: Bound): string {
  const lo = `${b.minExclusive ? 'above' : 'at least'} ${b.min}`;
  const hi = `${b.maxExclusive ? 'below' : 'at most'} ${b.max}`;
  return `${lo} and ${hi}`;
}

function checkNumber(field: NumericField, text: string): number | SettingsProblem {
  const b = BOUNDS[field];
  const trimmed = text.trim();
  const value = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(value)) return { field, message: `${b.label} must be a number (got "${text}").` };
  if (b.integer && !Number.isInteger(value)) return { field, message: `${b.label} must be a whole number (got ${trimmed}).` };
  const low = b.minExclusive ? value <= b.min : value < b.min;
  const high = b.maxExclusive ? value >= b.max : value > b.max;
  if (low || high) return { field, message: `${b.label} must be ${range(b)} (got ${trimmed}).` };
  return value;
}

const isTarget = (t: string): t is LoraTarget => (LORA_TARGETS as readonly string[]).includes(t);

/** The settings, or every problem with the form's values. */
export function readSettings(input: SettingsInput): { settings: FinetuneSettings } | { problems: SettingsProblem[] } {
  const problems: SettingsProblem[] = [];
  const values = {} as Record<NumericField, number>;
  for (const f of NUMERIC_FIELDS) {
    const v = checkNumber(f, input.numbers[f]);
    if (typeof v === 'number') values[f] = v;
    else problems.push(v);
  }
  const targets = input.targetModules.filter(isTarget);
  if (targets.length === 0 && !input.trainProjector) problems.push({ field: 'targetModules', message: 'Choose at least one target module (q, k, v, o, gate, up or down), or train the projector.' });
  if (input.schedule !== 'cosine' && input.schedule !== 'constant') problems.push({ field: 'schedule', message: 'Schedule must be cosine or constant.' });
  if (values.steps === 0 && values.epochs === 0) problems.push({ field: 'epochs', message: 'Set Steps, or Epochs when Steps is 0: with both 0 nothing would be trained.' });
  const newWords = readNewWords(input.newWords, problems);
  if (problems.length > 0) return { problems };
  const schedule = input.schedule as FinetuneSettings['schedule'];
  const settings: FinetuneSettings = {
    ...DEFAULT_FINETUNE_SETTINGS,
    ...values,
    targetModules: LORA_TARGETS.filter((t) => targets.includes(t)),
    trainProjector: input.trainProjector,
    schedule,
    ...newWords,
  };
  return { settings };
}
