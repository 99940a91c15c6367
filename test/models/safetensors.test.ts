import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { f16Bits } from '../../src/webgpu/f16';
import { SafetensorsError, SafetensorsFile, writeSafetensors } from '../../src/models/safetensors';

function withHeader(header: object, data: Uint8Array): ArrayBuffer {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out.buffer;
}

describe('safetensors', () => {
  it('round-trips f32 tensors and metadata, reading aligned f32 without a copy', () => {
    const rng = new Rng(1);
    const a = rng.floats(12);
    const b = rng.floats(5);
    const bytes = writeSafetensors({ 'layers.0.w': { shape: [3, 4], data: a }, bias: { shape: [5], data: b } }, { format: 'pt' });
    const f = new SafetensorsFile(bytes.buffer as ArrayBuffer);
    expect(f.metadata).toEqual({ format: 'pt' });
    expect(f.info('layers.0.w').shape).toEqual([3, 4]);
    const got = f.float32('layers.0.w');
    expect(Array.from(got)).toEqual(Array.from(a));
    expect(got.buffer).toBe(bytes.buffer);
    expect(Array.from(f.float32('bias'))).toEqual(Array.from(b));
  });

  it('upcasts F16 and BF16, including subnormals and infinity', () => {
    const values = [1, -2, 0.5, 65504, 2 ** -24, Number.POSITIVE_INFINITY];
    const f16 = new Uint16Array(values.map(f16Bits));
    const bf16 = new Uint16Array(new Uint32Array(new Float32Array([1, -2, 0.5, 3.25]).buffer).map((u) => u >>> 16));
    const data = new Uint8Array(f16.byteLength + bf16.byteLength);
    data.set(new Uint8Array(f16.buffer), 0);
    data.set(new Uint8Array(bf16.buffer), f16.byteLength);
    const f = new SafetensorsFile(
      withHeader(
        {
          h: { dtype: 'F16', shape: [6], data_offsets: [0, 12] },
          b: { dtype: 'BF16', shape: [2, 2], data_offsets: [12, 20] },
        },
        data,
      ),
    );
    expect(Array.from(f.float32('h'))).toEqual(values);
    expect(Array.from(f.float32('b'))).toEqual([1, -2, 0.5, 3.25]);
  });

  const bad: [string, () => ArrayBuffer, RegExp][] = [
    ['too short', () => new Uint8Array(4).buffer, /too short/],
    ['header length past the end', () => { const b = new Uint8Array(16); new DataView(b.buffer).setBigUint64(0, 1000n, true); return b.buffer; }, /truncated or not safetensors/],
    ['header not JSON', () => { const j = new TextEncoder().encode('{oops'); const b = new Uint8Array(8 + j.length); new DataView(b.buffer).setBigUint64(0, BigInt(j.length), true); b.set(j, 8); return b.buffer; }, /not valid JSON/],
    ['unknown dtype', () => withHeader({ t: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), /unsupported dtype F64/],
    ['data past the end (truncated)', () => withHeader({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)), /outside the file.*truncated/],
    ['shape and size disagree', () => withHeader({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /needs 12/],
  ];
  for (const [name, make, message] of bad) {
    it(`names the file and the problem: ${name}`, () => {
      let err: unknown;
      try {
        new SafetensorsFile(make(), 'weights/model.safetensors');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SafetensorsError);
      expect((err as Error).message).toMatch(/^weights\/model\.safetensors: /);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('a missing tensor is an error naming it', () => {
    const f = new SafetensorsFile(writeSafetensors({ a: { shape: [1], data: new Float32Array([1]) } }).buffer as ArrayBuffer);
    expect(() => f.float32('lm_head.weight')).toThrow(/has no tensor named lm_head\.weight/);
  });
});
