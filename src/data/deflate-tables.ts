/** RFC 1951 tables: base values and extra-bit counts of length and distance codes. */

/** Lengths for symbols 257..285. */
export const LENGTH_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
] as const;
export const LENGTH_EXTRA = [
  0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
] as const;

/** Distances for codes 0..29. */
export const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
  6145, 8193, 12289, 16385, 24577,
] as const;
export const DIST_EXTRA = [
  0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
] as const;

export const END_OF_BLOCK = 256;
export const MIN_MATCH = 3;
export const MAX_MATCH = 258;
export const WINDOW = 32768;

/** The fixed Huffman code of a literal/length symbol: its bits (MSB first) and length. */
export function fixedLiteralCode(symbol: number): { code: number; bits: number } {
  if (symbol < 144) return { code: 0x30 + symbol, bits: 8 };
  if (symbol < 256) return { code: 0x190 + symbol - 144, bits: 9 };
  if (symbol < 280) return { code: symbol - 256, bits: 7 };
  return { code: 0xc0 + symbol - 280, bits: 8 };
}

/** Index of the largest base not above value (the tables are sorted). */
export function codeIndex(bases: readonly number[], value: number): number {
  let i = bases.length - 1;
  while ((bases[i] as number) > value) i--;
  return i;
}
