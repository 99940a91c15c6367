import { describe, expect, it } from 'vitest';
import { answerLines } from '../../src/documents/answer-lines';

const PAGE = ['Annual Report', 'Date: 2024-03-15', 'Sales grew by 12 in 2012.', 'Item Price Qty', 'apples 733 12', 'pears 40 9'];

describe('answerLines', () => {
  it('finds the line holding the whole answer, ignoring case, spacing and edge punctuation', () => {
    expect(answerLines('annual  report.', PAGE)).toEqual({ lines: [0], match: 'whole' });
    expect(answerLines('2024-03-15', PAGE)).toEqual({ lines: [1], match: 'whole' });
  });

  it('matches whole words only: 12 is not found inside 2012, and every line holding it counts', () => {
    expect(answerLines('12', PAGE)).toEqual({ lines: [2, 4], match: 'whole' });
    expect(answerLines('201', PAGE)).toEqual({ lines: [], match: 'none' });
  });

  it('falls back to the distinctive words when no line holds the whole answer', () => {
    const r = answerLines('One table with the columns Item, Price, Qty and 2 rows: apples, pears.', PAGE);
    expect(r.match).toBe('words');
    expect(r.lines).toEqual([3, 4, 5]);
  });

  it('says none for an answer that is not on the page, and for an empty one', () => {
    expect(answerLines('Weekly Memo', PAGE)).toEqual({ lines: [], match: 'none' });
    expect(answerLines('', PAGE)).toEqual({ lines: [], match: 'none' });
    expect(answerLines('the', PAGE)).toEqual({ lines: [], match: 'none' });
  });
});
