/**
 * The Settings panel: LoRA's shape (rank, alpha, dropout, target modules, the
 * projector), the optimizer's schedule, the run's length and batches, and the
 * validation share, filled with the defaults. read() checks them and lists
 * every problem beside the form, marking the fields at fault.
 */
import { LORA_TARGETS, type FinetuneSettings } from '../../worker/client';
import { h } from '../dom';
import { BOUNDS, NUMERIC_FIELDS, readSettings, toInput, type NumericField, type SettingsProblem } from './settings';

const HINTS: Partial<Record<NumericField, string>> = {
  steps: '0: run the epochs below',
  warmupSteps: 'linear, then the schedule',
  validationFraction: 'share of records held out, 0 to 0.5',
  checkpointEvery: 'steps between saves',
};

const SHORT: Record<string, string> = { q_proj: 'q', k_proj: 'k', v_proj: 'v', o_proj: 'o', gate_proj: 'gate', up_proj: 'up', down_proj: 'down' };

export interface SettingsForm {
  element: HTMLElement;
  /** The checked settings, or null with the problems shown. */
  read(): FinetuneSettings | null;
  set(settings: FinetuneSettings): void;
  setDisabled(disabled: boolean): void;
}

export function settingsForm(): SettingsForm {
  const inputs = new Map<NumericField, HTMLInputElement>();
  const fields = NUMERIC_FIELDS.map((f) => {
    const b = BOUNDS[f];
    const input = h('input', { type: 'text', inputmode: b.integer ? 'numeric' : 'decimal', 'data-testid': `ft-set-${f}`, 'aria-label': b.label, size: '8' });
    inputs.set(f, input);
    return h('label', { class: 'field ft-field' }, b.label, input, HINTS[f] ? h('span', { class: 'ft-hint' }, HINTS[f]) : null);
  });
  const targets = LORA_TARGETS.map((t) => h('input', { type: 'checkbox', value: t, 'data-testid': `ft-target-${t}` }));
  const projector = h('input', { type: 'checkbox', 'data-testid': 'ft-set-projector' });
  const schedule = h('select', { 'data-testid': 'ft-set-schedule', 'aria-label': 'Schedule' }, h('option', { value: 'cosine' }, 'warm-up + cosine'), h('option', { value: 'constant' }, 'warm-up + constant'));
  const visionLayers = h('input', { type: 'text', inputmode: 'numeric', size: '4', 'data-testid': 'ft-set-vision-layers', 'aria-label': 'Vision tower: last N layers' });
  const words = h('input', { type: 'text', size: '24', placeholder: 'e.g. star, purple', 'data-testid': 'ft-set-new-words', 'aria-label': 'New words to learn' });
  const wordsLr = h('input', { type: 'text', inputmode: 'decimal', size: '8', placeholder: 'same', 'data-testid': 'ft-set-token-lr', 'aria-label': "New words' learning rate" });
  const problems = h('ul', { class: 'ft-problems', role: 'alert', 'data-testid': 'ft-settings-problems', hidden: '' });
  const element = h(
    'section',
    { class: 'panel ft-settings', 'aria-label': 'Settings', 'data-testid': 'ft-settings' },
    h('h2', {}, 'Settings'),
    h('div', { class: 'ft-grid' }, ...fields, h('label', { class: 'field ft-field' }, 'Schedule', schedule)),
    h(
      'fieldset',
      { class: 'ft-targets', 'data-testid': 'ft-targets' },
      h('legend', {}, 'Target modules'),
      ...targets.map((t) => h('label', { class: 'toggle' }, t, ` ${SHORT[t.value] ?? t.value}`)),
      h('label', { class: 'toggle' }, projector, ' train the projector'),
    ),
    h(
      'fieldset',
      { class: 'ft-grid ft-new-words', 'data-testid': 'ft-new-words' },
      h('legend', {}, 'Teach new words'),
      h('label', { class: 'field ft-field' }, 'Vision tower: last N layers', visionLayers, h('span', { class: 'ft-hint' }, '0: the tower stays frozen')),
      h('label', { class: 'field ft-field' }, 'New words to learn', words, h('span', { class: 'ft-hint' }, 'their embedding and output rows are trained')),
      h('label', { class: 'field ft-field' }, "New words' learning rate", wordsLr, h('span', { class: 'ft-hint' }, "empty: the adapter's")),
    ),
    problems,
  );

  const showProblems = (list: SettingsProblem[]) => {
    problems.hidden = list.length === 0;
    problems.replaceChildren(...list.map((p) => h('li', { 'data-field': p.field }, p.message)));
    const bad = new Set(list.map((p) => p.field));
    for (const [f, input] of inputs) input.setAttribute('aria-invalid', String(bad.has(f)));
    visionLayers.setAttribute('aria-invalid', String(bad.has('visionLastLayers')));
    words.setAttribute('aria-invalid', String(bad.has('newWords')));
    wordsLr.setAttribute('aria-invalid', String(bad.has('tokenLearningRate')));
  };

  const set = (s: FinetuneSettings) => {
    const input = toInput(s);
    for (const [f, el] of inputs) el.value = input.numbers[f];
    for (const t of targets) t.checked = input.targetModules.includes(t.value);
    projector.checked = input.trainProjector;
    schedule.value = input.schedule;
    visionLayers.value = input.newWords?.visionLastLayers ?? '0';
    words.value = input.newWords?.words ?? '';
    wordsLr.value = input.newWords?.learningRate ?? '';
    showProblems([]);
  };
  set(readDefaults());

  return {
    element,
    read() {
      const numbers = Object.fromEntries(NUMERIC_FIELDS.map((f) => [f, inputs.get(f)?.value ?? ''])) as Record<NumericField, string>;
      const result = readSettings({
        numbers,
        targetModules: targets.filter((t) => t.checked).map((t) => t.value),
        trainProjector: projector.checked,
        schedule: schedule.value,
        newWords: { visionLastLayers: visionLayers.value, words: words.value, learningRate: wordsLr.value },
      });
      if ('problems' in result) {
        showProblems(result.problems);
        return null;
      }
      showProblems([]);
      return result.settings;
    },
    set,
    setDisabled(disabled) {
      for (const el of [...inputs.values(), ...targets, projector, schedule, visionLayers, words, wordsLr]) el.disabled = disabled;
    },
  };
}

function readDefaults(): FinetuneSettings {
  const result = readSettings(toInput());
  if ('problems' in result) throw new Error(`The default fine-tune settings are out of the form's bounds: ${result.problems.map((p) => p.message).join(' ')}`);
  return result.settings;
}
