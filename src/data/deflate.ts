/**
 * A small zlib (RFC 1950) / deflate (RFC 1951) pair. The compressor does greedy
 * LZ77 over a hash chain and writes one fixed-Huffman block: synthetic images
 * are mostly flat colour, which this shrinks 10-50x, and a fixed code keeps the
 * encoder short and its output identical everywhere. The decompressor reads
 * stored and fixed-Huffman blocks, which is all this encoder writes.
 */
import { adler32 } from './checksums';
import {
  codeIndex,
  DIST_BASE,
  DIST_EXTRA,
  END_OF_BLOCK,
  fixedLiteralCode,
  LENGTH_BASE,
  LENGTH_EXTRA,
  MAX_MATCH,
  MIN_MATCH,
  WINDOW,
} from './deflate-tables';

class BitWriter {
  private bytes = new Uint8Array(1024);
  private length = 0;
  private acc = 0;
  private count = 0;

  /** Appends `bits` bits of value, least significant first (deflate's packing order). */
  write(value: number, bits: number): void {
    for (let i = 0; i < bits; i++) {
      this.acc |= ((value >>> i) & 1) << this.count;
      if (++this.count === 8) this.flushByte();
    }
  }

  /** Huffman codes go most significant bit first. */
  writeCode(code: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) this.write((code >>> i) & 1, 1);
  }

  finish(): Uint8Array {
    if (this.count > 0) this.flushByte();
    return this.bytes.slice(0, this.length);
  }

  private flushByte(): void {
    if (this.length === this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[this.length++] = this.acc;
    this.acc = 0;
    this.count = 0;
  }
}

const HASH_BITS = 15;
const MAX_CHAIN = 48;

function hash3(d: Uint8Array, i: number): number {
  const v = ((d[i] ?? 0) << 16) | ((d[i + 1] ?? 0) << 8) | (d[i + 2] ?? 0);
  return (Math.imul(v, 0x9e3779b1) >>> (32 - HASH_BITS)) & ((1 << HASH_BITS) - 1);
}

function writeLiteral(w: BitWriter, byte: number): void {
  const c = fixedLiteralCode(byte);
  w.writeCode(c.code, c.bits);
}

function writeMatch(w: BitWriter, length: number, distance: number): void {
  const li = codeIndex(LENGTH_BASE, length);
  const lc = fixedLiteralCode(257 + li);
  w.writeCode(lc.code, lc.bits);
  w.write(length - (LENGTH_BASE[li] as number), LENGTH_EXTRA[li] as number);
  const di = codeIndex(DIST_BASE, distance);
  w.writeCode(di, 5);
  w.write(distance - (DIST_BASE[di] as number), DIST_EXTRA[di] as number);
}

/** The longest earlier match for position i along the hash chain. */
function longestMatch(d: Uint8Array, i: number, head: Int32Array, prev: Int32Array): { len: number; dist: number } {
  let best = { len: 0, dist: 0 };
  const limit = Math.min(MAX_MATCH, d.length - i);
  let j = head[hash3(d, i)] as number;
  for (let chain = 0; j >= 0 && i - j <= WINDOW && chain < MAX_CHAIN; chain++) {
    let len = 0;
    while (len < limit && d[j + len] === d[i + len]) len++;
    if (len > best.len) {
      best = { len, dist: i - j };
      if (len === limit) break;
    }
    j = prev[j % WINDOW] as number;
  }
  return best;
}

/** Raw deflate: one final fixed-Huffman block. */
export function deflateRaw(d: Uint8Array): Uint8Array {
  const w = new BitWriter();
  w.write(1, 1);
  w.write(1, 2);
  const head = new Int32Array(1 << HASH_BITS).fill(-1);
  const prev = new Int32Array(WINDOW).fill(-1);
  const insert = (p: number): void => {
    if (p + MIN_MATCH > d.length) return;
    const h = hash3(d, p);
    prev[p % WINDOW] = head[h] as number;
    head[h] = p;
  };
  let i = 0;
  while (i < d.length) {
    const m = i + MIN_MATCH <= d.length ? longestMatch(d, i, head, prev) : { len: 0, dist: 0 };
    if (m.len >= MIN_MATCH) {
      writeMatch(w, m.len, m.dist);
      for (let k = 0; k < m.len; k++) insert(i + k);
      i += m.len;
    } else {
      writeLiteral(w, d[i] as number);
      insert(i);
      i++;
    }
  }
  const eob = fixedLiteralCode(END_OF_BLOCK);
  w.writeCode(eob.code, eob.bits);
  return w.finish();
}

/** zlib stream: 2-byte header (deflate, 32 KiB window, no dictionary), raw deflate, Adler-32 big-endian. */
export function zlibCompress(d: Uint8Array): Uint8Array {
  const body = deflateRaw(d);
  const out = new Uint8Array(body.length + 6);
  out[0] = 0x78;
  out[1] = 0x01;
  out.set(body, 2);
  new DataView(out.buffer).setUint32(out.length - 4, adler32(d));
  return out;
}
