import { describe, expect, it } from 'vitest';
import { formatDifference, formatScore } from '../../src/ui/evaluate-format';

describe('Evaluate view number formats', () => {
  it('writes rates as percentages, CER as a fraction and MME scores as MME reports them', () => {
    expect(formatScore('f1', 0.875)).toBe('87.5%');
    expect(formatScore('exact_match', 1)).toBe('100.0%');
    expect(formatScore('cer', 0.0123)).toBe('0.012');
    // An MME subtask scores 100 x (acc + acc+): 50 is 50, not 5000%.
    expect(formatScore('mme', 50)).toBe('50.00');
  });

  it('writes B - A in the metric unit: points for rates, raw for CER and MME', () => {
    expect(formatDifference('f1', 0.05)).toBe('+5.0');
    expect(formatDifference('f1', -0.05)).toBe('−5.0');
    expect(formatDifference('f1', 0)).toBe('±0.0');
    expect(formatDifference('mme', -25)).toBe('-25.00');
    expect(formatDifference('cer', 0.002)).toBe('+0.002');
  });
});
