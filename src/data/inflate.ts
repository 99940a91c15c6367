/**
 * zlib decompression for the streams this project writes: stored and
 * fixed-Huffman deflate blocks. Dynamic-Huffman blocks (what zlib itself
 * usually writes) are refused with a clear error rather than misread.
 */
import { adler32 } from './checksums';
import { DIST_BASE, DIST_EXTRA, END_OF_BLOCK, LENGTH_BASE, LENGTH_EXTRA } from './deflate-tables';

class BitReader {
  private pos = 0;
  private bit = 0;

  constructor(private readonly bytes: Uint8Array) {}

  /** `n` bits, least significant first. */
  read(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      if (this.pos >= this.bytes.length) throw new Error('inflate: unexpected end of data');
      v |= (((this.bytes[this.pos] as number) >>> this.bit) & 1) << i;
      if (++this.bit === 8) {
        this.bit = 0;
        this.pos++;
      }
    }
    return v;
  }

  alignToByte(): void {
    if (this.bit !== 0) {
      this.bit = 0;
      this.pos++;
    }
  }

  readBytes(n: number): Uint8Array {
    if (this.pos + n > this.bytes.length) throw new Error('inflate: stored block runs past the end');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

class ByteSink {
  bytes = new Uint8Array(4096);
  length = 0;

  push(b: number): void {
    if (this.length === this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[this.length++] = b;
  }
}

/** Reads one fixed-code literal/length symbol, code bits most significant first. */
function readFixedSymbol(r: BitReader): number {
  let code = 0;
  for (let len = 1; len <= 9; len++) {
    code = (code << 1) | r.read(1);
    if (len === 7 && code <= 0x17) return 256 + code;
    if (len === 8 && code >= 0x30 && code <= 0xbf) return code - 0x30;
    if (len === 8 && code >= 0xc0 && code <= 0xc7) return 280 + code - 0xc0;
    if (len === 9 && code >= 0x190) return 144 + code - 0x190;
  }
  throw new Error('inflate: bad fixed Huffman code');
}

function readDistanceCode(r: BitReader): number {
  let code = 0;
  for (let i = 0; i < 5; i++) code = (code << 1) | r.read(1);
  return code;
}

function inflateFixedBlock(r: BitReader, out: ByteSink): void {
  for (;;) {
    const sym = readFixedSymbol(r);
    if (sym < END_OF_BLOCK) {
      out.push(sym);
      continue;
    }
    if (sym === END_OF_BLOCK) return;
    const li = sym - 257;
    if (li >= LENGTH_BASE.length) throw new Error(`inflate: bad length symbol ${sym}`);
    const length = (LENGTH_BASE[li] as number) + r.read(LENGTH_EXTRA[li] as number);
    const di = readDistanceCode(r);
    if (di >= DIST_BASE.length) throw new Error(`inflate: bad distance code ${di}`);
    const dist = (DIST_BASE[di] as number) + r.read(DIST_EXTRA[di] as number);
    if (dist > out.length) throw new Error('inflate: distance reaches before the start');
    for (let k = 0; k < length; k++) out.push(out.bytes[out.length - dist] as number);
  }
}

function inflateStoredBlock(r: BitReader, out: ByteSink): void {
  r.alignToByte();
  const len = r.read(16);
  const nlen = r.read(16);
  if ((len ^ 0xffff) !== nlen) throw new Error('inflate: stored block length check failed');
  for (const b of r.readBytes(len)) out.push(b);
}

export function inflateRaw(bytes: Uint8Array): Uint8Array {
  const r = new BitReader(bytes);
  const out = new ByteSink();
  let final = 0;
  while (!final) {
    final = r.read(1);
    const type = r.read(2);
    if (type === 0) inflateStoredBlock(r, out);
    else if (type === 1) inflateFixedBlock(r, out);
    else throw new Error(`inflate: block type ${type} is not supported (only stored and fixed Huffman)`);
  }
  return out.bytes.slice(0, out.length);
}

export function zlibDecompress(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 6) throw new Error('zlib: stream too short');
  const cmf = bytes[0] as number;
  const flg = bytes[1] as number;
  if ((cmf & 0x0f) !== 8 || (cmf * 256 + flg) % 31 !== 0) throw new Error('zlib: bad header');
  if (flg & 0x20) throw new Error('zlib: preset dictionaries are not supported');
  const data = inflateRaw(bytes.subarray(2, bytes.length - 4));
  const want = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).getUint32(0);
  if (adler32(data) !== want) throw new Error('zlib: Adler-32 mismatch');
  return data;
}
