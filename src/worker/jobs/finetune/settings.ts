/** Fine-tune settings checked before anything is prepared, each refusal naming the setting and the value. */
import { LORA_TARGETS } from '../../../models/lora/types';
import { VlmError } from '../../errors';
import type { FinetuneSettings } from '../../finetune-api';

type Check = [keyof FinetuneSettings, (v: number) => boolean, string];

const int = (lo: number) => (v: number) => Number.isInteger(v) && v >= lo;
const CHECKS: Check[] = [
  ['rank', int(1), 'a whole number of at least 1'],
  ['alpha', (v) => Number.isFinite(v) && v > 0, 'a positive number'],
  ['dropout', (v) => v >= 0 && v < 1, 'at least 0 and below 1'],
  ['learningRate', (v) => Number.isFinite(v) && v > 0, 'a positive number'],
  ['warmupSteps', int(0), 'a whole number of at least 0'],
  ['steps', int(0), 'a whole number of at least 0 (0: epochs decide)'],
  ['batchSize', int(1), 'a whole number of at least 1'],
  ['gradAccumulation', int(1), 'a whole number of at least 1'],
  ['maxSeqLength', int(2), 'a whole number of at least 2'],
  ['weightDecay', (v) => Number.isFinite(v) && v >= 0, 'at least 0'],
  ['maxGradNorm', (v) => Number.isFinite(v) && v >= 0, 'at least 0 (0: no clipping)'],
  ['validationFraction', (v) => v >= 0 && v <= 0.5, 'between 0 and 0.5'],
  ['validateEvery', int(1), 'a whole number of at least 1'],
  ['checkpointEvery', int(0), 'a whole number of at least 0 (0: only on Pause)'],
  ['seed', (v) => Number.isInteger(v), 'a whole number'],
];

export function checkSettings(s: FinetuneSettings): void {
  for (const [name, ok, want] of CHECKS) {
    const v = s[name];
    if (typeof v !== 'number' || !ok(v)) throw new VlmError('bad-input', `The fine-tune setting ${name} must be ${want}, not ${JSON.stringify(v)}.`);
  }
  if (s.steps === 0 && !(Number.isFinite(s.epochs) && s.epochs > 0)) throw new VlmError('bad-input', `The fine-tune setting epochs must be a positive number when steps is 0, not ${JSON.stringify(s.epochs)}.`);
  const last = s.visionLastLayers ?? 0;
  if (!Number.isInteger(last) || last < 0) throw new VlmError('bad-input', `The fine-tune setting visionLastLayers must be a whole number of at least 0, not ${JSON.stringify(s.visionLastLayers)}.`);
  if (s.tokenLearningRate !== undefined && !(Number.isFinite(s.tokenLearningRate) && s.tokenLearningRate > 0)) {
    throw new VlmError('bad-input', `The fine-tune setting tokenLearningRate must be a positive number, not ${JSON.stringify(s.tokenLearningRate)}.`);
  }
  const spaced = (s.newWords ?? []).find((w) => /\s/.test(w.trim()));
  if (spaced !== undefined) throw new VlmError('bad-input', `Each new word must be one word without spaces, not ${JSON.stringify(spaced)}.`);
  if (s.targetModules.length === 0) throw new VlmError('bad-input', 'Choose at least one target module for the adapter (e.g. q_proj and v_proj).');
  const unknown = s.targetModules.filter((t) => !(LORA_TARGETS as readonly string[]).includes(t));
  if (unknown.length > 0) throw new VlmError('bad-input', `The target modules ${unknown.join(', ')} are not linear layers of the decoder (choose from ${LORA_TARGETS.join(', ')}).`);
}
