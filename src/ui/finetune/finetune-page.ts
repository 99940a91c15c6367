/**
 * The Fine-tune view: Data (load, generate or have a teacher write LLaVA
 * records, reviewed in a table), Settings (LoRA and the optimizer, checked),
 * Training (live curves and figures, Pause, Resume, Cancel, a saved run
 * offered after a reload) and the Adapter (apply, merge, PEFT out and in).
 * The worker trains; this view gathers the inputs and shows what it reports.
 */
import './finetune.css';
import type { AdapterState, VlmClient } from '../../worker/client';
import { h } from '../dom';
import { adapterPanel } from './adapter-panel';
import { dataPanel } from './data-panel';
import { settingsForm } from './settings-form';
import { trainingPanel } from './training-panel';

export interface FinetunePage {
  element: HTMLElement;
  /** The view came on screen: re-read the loaded model, the saved run and the adapter. */
  activate(): void;
}

export function finetunePage(api: VlmClient, adapterChanged: (a: AdapterState | null) => void = () => undefined): FinetunePage {
  const data = dataPanel(api);
  const settings = settingsForm();
  const adapter = adapterPanel(api, adapterChanged);
  const training = trainingPanel(api, {
    dataset: () => {
      const d = data.dataset();
      if (!d || d.records.length === 0) return 'There are no records to train on yet.';
      return d;
    },
    settings: () => settings.read(),
    stopped: () => void adapter.refresh(),
  });
  const element = h(
    'div',
    { class: 'finetune-page', 'data-testid': 'finetune-page' },
    h(
      'section',
      { class: 'panel ft-intro' },
      h('h2', {}, 'Fine-tune with LoRA'),
      h('p', { class: 'muted' }, 'Teach the loaded model from LLaVA-format data, in this browser: a low-rank adapter is trained on the decoder (the vision tower stays frozen unless you teach new words), and the loss counts only the answers. Nothing leaves your machine unless you choose an endpoint as the teacher.'),
    ),
    data.element,
    settings.element,
    training.element,
    adapter.element,
  );
  return {
    element,
    activate() {
      void training.activate();
      void adapter.refresh();
    },
  };
}
