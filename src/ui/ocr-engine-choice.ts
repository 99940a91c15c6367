/**
 * Documents' OCR engine: PP-OCR always, and the loaded model when it is a
 * Florence-2 (its OCR-with-regions task reads a page into lines with boxes).
 * The choice is shown only when there is one to make; the worker refuses
 * 'florence-2' with 'no-model' should the model be unloaded meanwhile.
 */
import type { LoadedModel, OcrEngine } from '../worker/api';
import { h } from './dom';

const OCR_TASK = '<OCR_WITH_REGION>';

export interface OcrEngineChoice {
  element: HTMLElement;
  /** The engine pages are read with now. */
  value(): OcrEngine;
  /** Offers Florence-2 while `model` answers its OCR task, and falls back to PP-OCR when it no longer does. */
  refresh(model: LoadedModel | null): void;
}

export function ocrEngineChoice(): OcrEngineChoice {
  const options = [h('option', { value: 'pp-ocr' }, 'PP-OCR'), h('option', { value: 'florence-2' }, 'Florence-2 (loaded model)')];
  const select = h('select', { 'data-testid': 'ocr-engine', 'aria-label': 'OCR engine' }, ...options);
  const note = h('span', { class: 'muted', 'data-testid': 'ocr-engine-note' });
  const element = h('label', { class: 'ocr-engine', hidden: '' }, 'OCR engine: ', select, ' ', note);
  const show = () => {
    note.textContent = select.value === 'florence-2' ? 'lines and boxes from its OCR-with-regions task; it gives no confidence per line.' : '';
  };
  select.addEventListener('change', show);
  return {
    element,
    value: () => (select.value === 'florence-2' && !element.hidden ? 'florence-2' : 'pp-ocr'),
    refresh(model) {
      const offered = model?.tasks?.includes(OCR_TASK) ?? false;
      element.hidden = !offered;
      if (!offered) select.value = 'pp-ocr';
      show();
    },
  };
}
