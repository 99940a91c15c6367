/**
 * The model zoo and the weight cache as the picker shows them: one option per
 * model (size, what it can do, whether it is cached; disabled with the reason
 * where our engines cannot run it) and a small list of cached models with a
 * Delete button each. Everything goes in as text nodes, never as HTML: model
 * ids and labels come from the network for models loaded by id.
 */
import type { CachedModel, ModelListing } from '../../worker/api';
import { formatBytes } from '../../worker/client';
import { h } from '../dom';

/** Why a model is listed but cannot be chosen; null when one of our engines runs it. */
export function notRunnableReason(m: ModelListing): string | null {
  if (m.engines.some((e) => e.runsHere)) return null;
  const engines = [...new Set(m.engines.map((e) => e.engine))];
  return `needs ${engines.join(' or ') || 'another engine'}; not runnable here yet`;
}

/** The download size the picker quotes: the first runnable engine's (its smallest variant, "from", where variants differ), else the smallest of any. */
export function sizeText(m: ModelListing): string {
  const runnable = m.engines.find((e) => e.runsHere);
  const exact = runnable?.dtypes[0]?.approxBytes;
  if (runnable && runnable.engine !== 'transformers.js') return exact === null || exact === undefined ? 'size unknown' : formatBytes(exact);
  const sizes = (runnable ? [runnable] : m.engines).flatMap((e) => e.dtypes.map((d) => d.approxBytes)).filter((n): n is number => n !== null);
  return sizes.length > 0 ? `from ~${formatBytes(Math.min(...sizes))}` : 'size unknown';
}

export function cachedText(m: ModelListing): string {
  if (m.cachedFor.length > 0) return `cached (${m.cachedFor.map((c) => (c.dtype ? `${c.engine} ${c.dtype}` : c.engine)).join(', ')})`;
  return m.cachedBytes > 0 ? `partly cached, ${formatBytes(m.cachedBytes)}` : m.source === 'bundled' ? 'served with the app' : 'not cached';
}

/** One line per model for a <select>: "SmolVLM 256M Instruct · from ~154 MB · chat, ocr · not cached — needs …". */
export function optionText(m: ModelListing): string {
  const reason = notRunnableReason(m);
  const line = `${m.label} · ${sizeText(m)} · ${m.capabilities.join(', ')} · ${cachedText(m)}`;
  return reason ? `${line} — ${reason}` : line;
}

export function modelOption(m: ModelListing, selected: boolean): HTMLOptionElement {
  const reason = notRunnableReason(m);
  const attrs: Record<string, string> = { value: m.id, 'data-model-id': m.id, 'data-runnable': String(reason === null), 'data-cached': String(m.cachedFor.length > 0) };
  if (reason) {
    attrs.disabled = '';
    attrs.title = `${reason}. ${m.note}`;
  } else attrs.title = m.note;
  const option = h('option', attrs, optionText(m));
  option.selected = selected;
  return option;
}

export interface CachedModelsView {
  element: HTMLElement;
  /** Reads the cache listing again and redraws. */
  refresh(): Promise<void>;
}

/**
 * "Cached models": id, bytes (and unfinished bytes kept for resuming), Delete.
 * `remove` deletes through the worker and returns the bytes freed; `changed`
 * lets the picker update its cached marks.
 */
export function cachedModelsView(list: () => Promise<CachedModel[]>, remove: (id: string) => Promise<number>, changed: () => void): CachedModelsView {
  const items = h('ul', { class: 'cached-list', 'data-testid': 'cached-models-list' });
  const note = h('p', { class: 'muted cached-note', 'data-testid': 'cached-models-note', role: 'status' });
  const element = h('details', { class: 'cached-models', 'data-testid': 'cached-models' }, h('summary', {}, 'Cached models'), items, note);

  function row(m: CachedModel): HTMLElement {
    const partial = m.partialBytes > 0 ? ` + ${formatBytes(m.partialBytes)} of an unfinished download` : '';
    const del = h('button', { type: 'button', class: 'small', 'data-testid': 'cached-delete', 'aria-label': `Delete ${m.id} from the cache` }, 'Delete');
    del.addEventListener('click', () => {
      del.disabled = true;
      remove(m.id)
        .then((freed) => {
          note.textContent = `Deleted ${m.id}: ${formatBytes(freed)} freed.`;
        })
        .catch((err: unknown) => {
          note.textContent = `${m.id} could not be deleted: ${err instanceof Error ? err.message : String(err)}`;
        })
        .finally(() => {
          void refresh();
          changed();
        });
    });
    return h(
      'li',
      { 'data-testid': 'cached-model', 'data-model-id': m.id, 'data-bytes': String(m.bytes) },
      h('span', { class: 'cached-id' }, m.id),
      h('span', { class: 'muted', 'data-testid': 'cached-size' }, ` ${formatBytes(m.bytes)} in ${m.files} file${m.files === 1 ? '' : 's'}${partial} `),
      del,
    );
  }

  async function refresh(): Promise<void> {
    try {
      const models = await list();
      items.replaceChildren(...models.map(row));
      const total = models.reduce((s, m) => s + m.bytes + m.partialBytes, 0);
      element.dataset.count = String(models.length);
      if (models.length === 0) items.replaceChildren(h('li', { class: 'muted', 'data-testid': 'cached-empty' }, 'Nothing cached yet.'));
      else if (!note.textContent) note.textContent = `${formatBytes(total)} in this browser's storage.`;
    } catch (err) {
      items.replaceChildren(h('li', { class: 'muted' }, `The cache could not be read: ${err instanceof Error ? err.message : String(err)}`));
    }
  }

  return { element, refresh };
}
