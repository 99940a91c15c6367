/**
 * Document questions asked the way the Documents page asks them: the page's text
 * (OCR lines or the PDF's text layer, in reading order) comes first as context,
 * then the question, with the page image attached. A small model cannot read a
 * page through its 64 x 64 view, but it can find the answer in text it is given.
 *
 * The lines are laid out as the OCR pipeline returns them: a table row comes
 * as one line of cells, as one line per cell, or with some neighbouring cells
 * together on one line (it depends on how far apart the detector finds the
 * cells), and a narrow gap such as the one after "Date:" may be read without
 * its space. All of these appear in training.
 */
import type { DocumentMeta } from '../documents';
import { generateDocument } from '../documents';
import type { Rng } from '../random';
import type { DraftBuilder } from './scene-tasks';
import type { QA, SampleDraft } from './types';
import { conversation } from './types';

export const DOCUMENT_TEXT_HEADER = 'Document text:';

/** Lines beyond this many are left out of the prompt (the bundled model has a 512-token context). */
export const MAX_CONTEXT_LINES = 40;

/** The user turn: the page text as context, a blank line, then the question. */
export function documentContextPrompt(lines: readonly string[], question: string): string {
  const kept = lines
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter((l) => l.length > 0)
    .slice(0, MAX_CONTEXT_LINES);
  return `${DOCUMENT_TEXT_HEADER}\n${kept.join('\n')}\n\n${question}`;
}

/** Table rows as an OCR pass may return them: whole rows, one cell per line, or cells grouped at random gaps. */
export type TableLayout = 'rows' | 'cells' | 'mixed';
export const TABLE_LAYOUTS: readonly TableLayout[] = ['rows', 'cells', 'mixed'];

/** A row's cells as lines: each gap between neighbours is kept (a new line) unless the layout joins it. */
function rowLines(row: readonly string[], layout: TableLayout, rng: Rng): string[] {
  if (layout === 'rows') return [row.join(' ')];
  const out: string[] = [];
  row.forEach((cell, i) => {
    if (i > 0 && layout === 'mixed' && rng.chance(0.3)) out[out.length - 1] += ` ${cell}`;
    else out.push(cell);
  });
  return out;
}

/** The page's text in reading order, laid out as an OCR pass may return it (see the module comment). */
export function documentTextLines(meta: DocumentMeta, rng: Rng): string[] {
  const date = rng.chance(0.3) ? meta.dateRun.text.replace(/: /, ':') : meta.dateRun.text;
  const lines = [meta.title.text, date, ...meta.lines.map((l) => l.text)];
  const layout = rng.pick(TABLE_LAYOUTS);
  for (const row of [meta.table.columns, ...meta.table.rows]) lines.push(...rowLines(row, layout, rng));
  return lines;
}

export const DATE_QUESTIONS = ['What is the date on this document?', 'Extract all dates mentioned.'] as const;
export const TABLES_QUESTION = 'What tables are present? Describe their contents.';

/** The canonical description of the page's one table: its columns, then its row items. */
export function describeTable(meta: DocumentMeta): string {
  const { columns, rows } = meta.table;
  return `One table with the columns ${columns.join(', ')} and ${rows.length} rows: ${rows.map((r) => r[0] ?? '').join(', ')}.`;
}

function contextTask(ask: (meta: DocumentMeta, rng: Rng) => QA): DraftBuilder {
  return (rng, options): SampleDraft => {
    const doc = generateDocument(rng, { words: options.words ?? 'synthetic' });
    const lines = documentTextLines(doc.meta, rng);
    const qa = ask(doc.meta, rng);
    return {
      images: [{ raster: doc.raster, meta: doc.meta }],
      conversations: conversation([{ question: documentContextPrompt(lines, qa.question), answer: qa.answer }]),
    };
  };
}

export const docTitleContextTask = contextTask((meta) => ({
  question: 'What is the title of this document?',
  answer: meta.title.text,
}));

export const docDateContextTask = contextTask((meta, rng) => ({ question: rng.pick(DATE_QUESTIONS), answer: meta.date }));

export const docTableContextTask = contextTask((meta, rng) => {
  const { columns, rows } = meta.table;
  const row = rng.pick(rows);
  const col = rng.int(1, columns.length - 1);
  return { question: `What is the ${columns[col] ?? ''} of ${row[0] ?? ''} in the table?`, answer: row[col] ?? '' };
});

export const docTablesContextTask = contextTask((meta) => ({ question: TABLES_QUESTION, answer: describeTable(meta) }));
