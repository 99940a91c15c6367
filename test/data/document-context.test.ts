import { describe, expect, it } from 'vitest';
import { taskSamples } from '../../src/data/split';
import { DOCUMENT_TEXT_HEADER, MAX_CONTEXT_LINES, documentContextPrompt } from '../../src/data/tasks/document-context';
import type { TaskName } from '../../src/data/tasks/registry';
import type { DocumentMeta } from '../../src/data/documents';

interface ContextSample {
  lines: string[];
  question: string;
  answer: string;
  meta: DocumentMeta;
}

/** Splits the user turn back into its context lines and question. */
function samples(task: TaskName, n = 40, seed = 3): ContextSample[] {
  return [...taskSamples(task, n, seed)].map((s) => {
    const meta = s.images[0]?.meta;
    if (meta?.kind !== 'document') throw new Error('expected a document');
    const user = s.conversations[0]?.value ?? '';
    const prefix = `<image>\n${DOCUMENT_TEXT_HEADER}\n`;
    expect(user.startsWith(prefix)).toBe(true);
    const [context = '', question = ''] = user.slice(prefix.length).split('\n\n');
    return { lines: context.split('\n'), question, answer: s.conversations[1]?.value ?? '', meta };
  });
}

describe('documentContextPrompt', () => {
  it('puts the header, one cleaned line per text line, a blank line and the question', () => {
    expect(documentContextPrompt(['  Annual  Report ', '', 'Date:\t2024-01-02'], 'What is the title of this document?')).toBe(
      'Document text:\nAnnual Report\nDate: 2024-01-02\n\nWhat is the title of this document?',
    );
  });

  it(`keeps at most ${MAX_CONTEXT_LINES} lines so a long page still fits the context`, () => {
    const lines = Array.from({ length: MAX_CONTEXT_LINES + 10 }, (_, i) => `line ${i}`);
    const prompt = documentContextPrompt(lines, 'Q?');
    expect(prompt.split('\n')).toHaveLength(1 + MAX_CONTEXT_LINES + 2);
    expect(prompt).toContain(`line ${MAX_CONTEXT_LINES - 1}\n\nQ?`);
    expect(prompt).not.toContain(`line ${MAX_CONTEXT_LINES}\n`);
  });
});

describe('document questions with the page text as context', () => {
  it('title: the answer is the first line of the context and the drawn title', () => {
    for (const s of samples('doc-title-context')) {
      expect(s.question).toBe('What is the title of this document?');
      expect(s.answer).toBe(s.meta.title.text);
      expect(s.lines[0]).toBe(s.answer);
    }
  });

  it('date: the answer is the printed date and appears in the date line', () => {
    const asked = new Set<string>();
    const dateLines = new Set<string>();
    for (const s of samples('doc-date-context', 40)) {
      asked.add(s.question);
      expect(s.answer).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      // As printed, or with the narrow gap after the colon read without its space, as OCR may.
      const line = s.lines[1] ?? '';
      expect([`Date: ${s.answer}`, `Date:${s.answer}`]).toContain(line);
      dateLines.add(line.includes(': ') ? 'spaced' : 'tight');
    }
    expect([...asked].sort()).toEqual(['Extract all dates mentioned.', 'What is the date on this document?']);
    expect([...dateLines].sort()).toEqual(['spaced', 'tight']);
  });

  it('table cell: the answer is the cell named by row item and column, found in the context', () => {
    const layouts = { rows: 0, cells: 0, mixed: 0 };
    for (const s of samples('doc-table-context', 90)) {
      const m = /^What is the (\w+) of (\w+) in the table\?$/.exec(s.question);
      if (!m) throw new Error(s.question);
      const { columns, rows } = s.meta.table;
      const row = rows.find((r) => r[0] === m[2]);
      expect(row?.[columns.indexOf(m[1] ?? '')]).toBe(s.answer);
      // Whatever the grouping, the table's lines read back as its cells in order, each cell whole.
      const tableLines = s.lines.slice(2 + s.meta.lines.length); // after the title, the date and the sentences
      expect(tableLines.join(' ').split(' ')).toEqual([columns, ...rows].flat());
      const widths = new Set(tableLines.map((l) => l.split(' ').length));
      if (widths.size === 1 && widths.has(columns.length)) layouts.rows++;
      else if (widths.size === 1 && widths.has(1)) layouts.cells++;
      else layouts.mixed++;
    }
    expect(layouts.rows).toBeGreaterThan(5);
    expect(layouts.cells).toBeGreaterThan(5);
    expect(layouts.mixed).toBeGreaterThan(5);
  });

  it('tables: the description names the header cells and the row items in order', () => {
    for (const s of samples('doc-tables-context')) {
      const { columns, rows } = s.meta.table;
      expect(s.answer).toBe(`One table with the columns ${columns.join(', ')} and ${rows.length} rows: ${rows.map((r) => r[0]).join(', ')}.`);
      for (const c of columns) expect(s.lines.join(' ')).toContain(c);
    }
  });

  it('is deterministic for a seed', () => {
    expect(samples('doc-tables-context', 5, 9)).toEqual(samples('doc-tables-context', 5, 9));
  });
});
