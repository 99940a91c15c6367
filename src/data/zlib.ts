/**
 * zlib streams (RFC 1950) for PNG's IDAT data, through fflate: it reads every
 * block type, so a PNG re-saved by any other encoder decodes too. fflate skips
 * the Adler-32 trailer when inflating; checking it here keeps a corrupted file
 * from decoding into wrong pixels silently.
 */
import { unzlibSync, zlibSync } from 'fflate';
import { adler32 } from './checksums';

/** Deterministic for a given input, so a seed always writes the same PNG bytes. */
export function zlibCompress(data: Uint8Array): Uint8Array {
  return zlibSync(data, { level: 6 });
}

export function zlibDecompress(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 6) throw new Error('zlib: stream too short');
  let data: Uint8Array;
  try {
    data = unzlibSync(bytes);
  } catch (e) {
    throw new Error(`zlib: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const want = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).getUint32(0);
  if (adler32(data) !== want) throw new Error('zlib: Adler-32 mismatch');
  return data;
}
