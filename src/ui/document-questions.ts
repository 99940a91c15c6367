/**
 * The questions people ask about a document. Asking the model needs a loaded
 * VLM, which this page does not have yet, so those buttons stay disabled and
 * say why; "Extract all dates" also has a deterministic answer from the text,
 * which works now.
 */
import { extractDates } from '../documents/dates';
import type { PageResult } from '../worker/api';
import { h } from './dom';

export const PRESET_QUESTIONS = [
  'What is the title of this document?',
  'Summarize the main points.',
  'Extract all dates mentioned.',
  'What tables are present? Describe their contents.',
  'What type of chart is this?',
  'What is the trend shown in this chart?',
  'What are the maximum and minimum values?',
] as const;

const DATES_QUESTION = 'Extract all dates mentioned.';

function datesTable(pages: readonly PageResult[]): HTMLElement {
  const rows = pages.flatMap((p) => extractDates(p.lines.map((l) => l.text).join('\n')).map((d) => ({ page: p.page, ...d })));
  if (rows.length === 0) return h('p', { 'data-testid': 'dates-result' }, 'No dates found in the text.');
  return h(
    'table',
    { class: 'numbers', 'data-testid': 'dates-result' },
    h('thead', {}, h('tr', {}, h('th', {}, 'date'), h('th', {}, 'as written'), h('th', {}, 'page'))),
    h('tbody', {}, ...rows.map((r) => h('tr', { 'data-testid': 'date-row' }, h('td', {}, r.iso), h('td', { style: 'text-align:left' }, r.text), h('td', {}, r.page)))),
  );
}

/** The questions panel; `pages()` gives the current document's text when a button is pressed. */
export function documentQuestions(pages: () => readonly PageResult[]): HTMLElement {
  const answer = h('div', { class: 'answer', 'data-testid': 'question-answer' });
  const buttons = PRESET_QUESTIONS.map((q) => {
    const isDates = q === DATES_QUESTION;
    const b = h('button', { type: 'button', class: 'question', 'data-testid': isDates ? 'extract-dates' : 'preset-question' }, q);
    if (!isDates) {
      b.disabled = true;
      b.title = 'Load a model to ask questions.';
    }
    b.addEventListener('click', () => {
      const current = pages();
      answer.replaceChildren(
        h('p', { class: 'muted' }, 'Dates found in the document text (deterministic, no model):'),
        current.length ? datesTable(current) : h('p', { 'data-testid': 'dates-result' }, 'Open a document first.'),
      );
    });
    return b;
  });
  const ask = h('input', { type: 'text', placeholder: 'Ask about this document…', 'aria-label': 'Question', 'data-testid': 'question-input', disabled: '' });
  return h(
    'section',
    { class: 'panel', 'data-testid': 'doc-questions' },
    h('h2', {}, 'Ask about the document'),
    h('p', { class: 'muted', 'data-testid': 'model-needed' }, 'Load a model to ask questions: answers come from a vision-language model, and none is loaded yet. "Extract all dates mentioned." also works without one, straight from the text.'),
    h('div', { class: 'questions' }, ...buttons),
    ask,
    answer,
  );
}
