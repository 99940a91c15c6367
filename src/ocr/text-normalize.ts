/**
 * The PP-OCRv4 recognizer reads Chinese and Latin with one dictionary, which
 * holds both the ASCII punctuation and its fullwidth forms (，（）：；！？).
 * On a blurred or small Latin line it often picks the fullwidth one. A line
 * with no CJK characters in it is Latin text, so there the fullwidth forms
 * (U+FF01-U+FF5E) and the ideographic space become their ASCII twins; lines
 * with CJK text keep them, as Chinese typesetting uses them.
 */
const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]/;
const FULLWIDTH = /[\uff01-\uff5e\u3000]/g;

export function latinPunctuation(text: string): string {
  if (CJK.test(text)) return text;
  return text.replace(FULLWIDTH, (c) => (c === '\u3000' ? ' ' : String.fromCharCode(c.charCodeAt(0) - 0xfee0)));
}
