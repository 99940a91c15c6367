/**
 * The recognizer's output classes, as PaddleOCR's CTCLabelDecode builds them:
 * index 0 is the CTC blank, then one class per line of the dictionary file,
 * then a space (the model was trained with use_space_char, and the dictionary
 * itself has no space line).
 */
export const CTC_BLANK = 0;

export function parseCharset(dictionary: string): string[] {
  const lines = dictionary.split(/\r?\n/);
  // A trailing newline ends the last entry; it does not add an empty class.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return ['', ...lines, ' '];
}

/** Refuses a dictionary that does not match the model's class count. */
export function checkCharset(charset: readonly string[], classes: number): void {
  if (charset.length !== classes) {
    throw new Error(`the dictionary gives ${charset.length} classes (with blank and space) but the recognizer outputs ${classes}`);
  }
}
