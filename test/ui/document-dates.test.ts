import { describe, expect, it } from 'vitest';
import { extractDates, isoDate } from '../../src/ui/document-dates';

const isos = (s: string) => extractDates(s).map((d) => d.iso);

describe('date extraction', () => {
  it('normalises the common written forms to YYYY-MM-DD', () => {
    expect(isos('Issued 2024-03-15, due 2024/4/1.')).toEqual(['2024-03-15', '2024-04-01']);
    expect(isos('Signed 15.03.2024 and 05/11/2023.')).toEqual(['2024-03-15', '2023-11-05']);
    expect(isos('Meeting on 7 March 2025; report by 21st of June 2025.')).toEqual(['2025-03-07', '2025-06-21']);
    expect(isos('From March 7, 2025 to Sept. 30 2025 and 1-Feb-2024.')).toEqual(['2025-03-07', '2025-09-30', '2024-02-01']);
  });

  it('reads month-first numeric dates only when the day cannot come first', () => {
    expect(isos('03/25/2024')).toEqual(['2024-03-25']);
    expect(isos('03/04/2024')).toEqual(['2024-04-03']);
  });

  it('expands two-digit years around 1970', () => {
    expect(isos('1.2.24 and 1.2.85')).toEqual(['2024-02-01', '1985-02-01']);
  });

  it('rejects impossible dates instead of rolling them over', () => {
    expect(isos('2023-02-29 2024-02-29 2024-13-01 31 April 2024')).toEqual(['2024-02-29']);
    expect(isoDate(2023, 2, 29)).toBeNull();
  });

  it('keeps the original text and its position, in order, without double counting', () => {
    const text = 'Paid 15 March 2024 (2024-03-15).';
    expect(extractDates(text)).toEqual([
      { text: '15 March 2024', iso: '2024-03-15', index: 5 },
      { text: '2024-03-15', iso: '2024-03-15', index: 20 },
    ]);
  });

  it('ignores numbers that are not dates', () => {
    expect(isos('Invoice No. 4711, total 42.50 EUR, phone 555-1234, version 1.2.3')).toEqual([]);
  });
});
