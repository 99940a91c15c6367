import { describe, expect, it } from 'vitest';
import { latinPunctuation } from '../../src/ocr/text-normalize';

describe('fullwidth punctuation on Latin lines', () => {
  it('turns the recognizer\'s fullwidth forms into ASCII on a line with no CJK text', () => {
    expect(latinPunctuation('const total = items.reduce（（a， b） => a + b， 0）；')).toBe('const total = items.reduce((a, b) => a + b, 0);');
    expect(latinPunctuation('Ｎｏ．\u3000５：ｏｋ！')).toBe('No. 5:ok!');
  });

  it('keeps them where the line holds Chinese or Japanese text', () => {
    expect(latinPunctuation('价格（元），合计：30')).toBe('价格（元），合计：30');
    expect(latinPunctuation('テスト（１）')).toBe('テスト（１）');
  });
});
