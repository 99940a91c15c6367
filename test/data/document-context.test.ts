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
    for (const s of samples('doc-date-context')) {
      asked.add(s.question);
      expect(s.answer).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(s.lines).toContain(`Date: ${s.answer}`);
    }
    expect([...asked].sort()).toEqual(['Extract all dates mentioned.', 'What is the date on this document?']);
  });

  it('table cell: the answer is the cell named by row item and column, found in the context', () => {
    let merged = 0;
    let split = 0;
    for (const s of samples('doc-table-context', 60)) {
      const m = /^What is the (\w+) of (\w+) in the table\?$/.exec(s.question);
      if (!m) throw new Error(s.question);
      const { columns, rows } = s.meta.table;
      const row = rows.find((r) => r[0] === m[2]);
      expect(row?.[columns.indexOf(m[1] ?? '')]).toBe(s.answer);
      const rowLine = s.lines.indexOf(row?.join(' ') ?? '');
      if (rowLine >= 0) merged++;
      else {
        // One line per cell: the item, then its cells in column order.
        const at = s.lines.indexOf(m[2] ?? '');
        expect(s.lines.slice(at, at + columns.length)).toEqual(row);
        split++;
      }
    }
    expect(merged).toBeGreaterThan(5);
    expect(split).toBeGreaterThan(5);
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
