/**
 * The Adapter panel: what the worker holds for the loaded model (trained or
 * imported, rank, alpha, targets, parameter count), the Apply toggle Chat
 * shares, Merge (after a confirm: it cannot be undone until the model is
 * loaded again), Export as PEFT's two files, and Import of two files picked
 * or dropped. Refusals come back worded with what to do.
 */
import type { AdapterState, VlmClient } from '../../worker/client';
import { describeError, toTurnError } from '../chat/error-text';
import { h } from '../dom';
import { downloadPeft } from './downloads';

export interface AdapterPanel {
  element: HTMLElement;
  refresh(): Promise<void>;
}

function describe(a: AdapterState): string {
  const c = a.config;
  const how = a.source === 'trained' ? 'Trained here' : 'Imported';
  const projector = c.trainProjector ? ' + projector' : '';
  const merged = a.merged ? ' Merged into the weights: reload the model to remove it.' : '';
  return `${how}: "${a.name}" for ${c.baseModel}, rank ${c.rank}, alpha ${c.alpha}, targets ${c.targetModules.join(', ')}${projector}, ${a.parameters.toLocaleString('en')} parameters.${merged}`;
}

/** PEFT's files among those picked or dropped, by name (either may be missing). */
async function peftFrom(files: readonly File[]): Promise<{ adapterConfig: string; safetensors: Uint8Array } | string> {
  const config = files.find((f) => f.name.endsWith('.json'));
  const weights = files.find((f) => f.name.endsWith('.safetensors'));
  if (!config || !weights) return `Pick both files: adapter_config.json and adapter_model.safetensors (got ${files.map((f) => f.name).join(', ') || 'none'}).`;
  return { adapterConfig: await config.text(), safetensors: new Uint8Array(await weights.arrayBuffer()) };
}

export function adapterPanel(api: VlmClient, changed: (a: AdapterState | null) => void): AdapterPanel {
  const line = h('p', { 'data-testid': 'ft-adapter-state' }, 'No adapter yet: train one above or import a PEFT adapter.');
  const apply = h('input', { type: 'checkbox', 'data-testid': 'ft-adapter-apply' });
  const applyLabel = h('label', { class: 'toggle' }, apply, ' Apply in Chat');
  const merge = h('button', { type: 'button', class: 'secondary', 'data-testid': 'ft-adapter-merge' }, 'Merge into the weights');
  const exportPeft = h('button', { type: 'button', 'data-testid': 'ft-adapter-export' }, 'Export PEFT');
  const importInput = h('input', { type: 'file', multiple: '', accept: '.json,.safetensors', 'data-testid': 'ft-adapter-import' });
  const drop = h('label', { class: 'drop-zone ft-adapter-drop', 'data-testid': 'ft-adapter-drop' }, 'Import a PEFT adapter: pick or drop adapter_config.json and adapter_model.safetensors', importInput);
  const message = h('div', { role: 'status', 'data-testid': 'ft-adapter-message', hidden: '' });
  const element = h(
    'section',
    { class: 'panel ft-adapter', 'aria-label': 'Adapter', 'data-testid': 'ft-adapter' },
    h('h2', {}, 'Adapter'),
    line,
    h('div', { class: 'toolbar' }, applyLabel, merge, exportPeft),
    drop,
    message,
  );
  let current: AdapterState | null = null;

  const say = (tone: 'ok' | 'bad', ...parts: (Node | string)[]) => {
    message.hidden = false;
    message.className = tone === 'bad' ? 'chat-error' : 'status ok';
    message.replaceChildren(...parts);
  };
  /** The worker's refusal, with what to do about this action when its code alone says nothing useful. */
  const fail = (err: unknown, advice?: string) => {
    const e = toTurnError(err);
    const d = describeError(e);
    if (advice && (e.code === 'bad-input' || e.code === 'internal')) d.advice = advice;
    say('bad', h('strong', {}, d.headline), ' ', h('span', { 'data-testid': 'ft-adapter-error' }, d.detail), h('p', { class: 'advice' }, d.advice));
  };
  const show = (a: AdapterState | null) => {
    current = a;
    line.textContent = a ? describe(a) : 'No adapter yet: train one above or import a PEFT adapter.';
    apply.checked = a?.applied ?? false;
    apply.disabled = !a || a.merged;
    merge.disabled = !a || a.merged;
    exportPeft.disabled = !a;
    changed(a);
  };
  const act = async (go: () => Promise<AdapterState | null>, done?: string, advice?: string) => {
    try {
      const a = await go();
      if (a) show(a);
      if (done) say('ok', done);
    } catch (err) {
      fail(err, advice);
      await refresh();
    }
  };
  const refresh = async () => show(await api.adapterState().catch(() => null));

  apply.addEventListener('change', () => void act(() => api.adapterApply(apply.checked), apply.checked ? 'Applied: Chat answers with the adapter.' : 'Removed: Chat answers with the base model.'));
  merge.addEventListener('click', () => {
    if (!current) return;
    if (!confirm('Merge the adapter into the loaded weights? This cannot be undone until the model is loaded again.')) return;
    void act(() => api.adapterMerge(), 'Merged into the weights. Load the model again to remove it.');
  });
  exportPeft.addEventListener('click', () =>
    void act(async () => {
      downloadPeft(await api.adapterExport());
      return null;
    }, 'Exported adapter_config.json and adapter_model.safetensors.'),
  );
  const importFiles = async (files: readonly File[]) => {
    const peft = await peftFrom(files);
    if (typeof peft === 'string') {
      say('bad', h('span', { 'data-testid': 'ft-adapter-error' }, peft));
      return;
    }
    await act(
      () => api.adapterImport(peft),
      'Imported: apply it to use it in Chat.',
      'Import an adapter made for the loaded model (its base_model_name_or_path and tensor shapes must match), or load that adapter’s base model on the native engine first.',
    );
  };
  importInput.addEventListener('change', () => {
    void importFiles([...(importInput.files ?? [])]);
    importInput.value = '';
  });
  drop.addEventListener('dragover', (e) => e.preventDefault());
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    void importFiles([...(e.dataTransfer?.files ?? [])]);
  });
  show(null);
  return { element, refresh };
}
