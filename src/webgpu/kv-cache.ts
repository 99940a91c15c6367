/**
 * Keys and values of every decoder layer, kept on the GPU between steps.
 * Layout per layer: [B, capacity, Hkv, D], the first `length` rows valid.
 * A step appends its new rows to every layer, then advances the length once.
 */
import { KernelInputError } from './errors';
import { kvAppend } from './kernels/kv-append';
import type { GpuRuntime } from './runtime';
import type { Tensor } from './tensor';

export interface KvCacheShape {
  layers: number;
  batch: number;
  capacity: number;
  kvHeads: number;
  headDim: number;
}

export class KvCache {
  readonly keys: Tensor[];
  readonly values: Tensor[];
  private len = 0;

  constructor(
    private readonly rt: GpuRuntime,
    readonly shape: KvCacheShape,
    label = 'kv-cache',
  ) {
    const dims = [shape.batch, shape.capacity, shape.kvHeads, shape.headDim];
    this.keys = Array.from({ length: shape.layers }, (_, i) => rt.empty(dims, 'f32', `${label}.k${i}`));
    this.values = Array.from({ length: shape.layers }, (_, i) => rt.empty(dims, 'f32', `${label}.v${i}`));
  }

  get length(): number {
    return this.len;
  }

  /** Rows still free. */
  get remaining(): number {
    return this.shape.capacity - this.len;
  }

  /** Record the append of tNew rows to one layer at the current length (not yet advanced). */
  append(layer: number, k: Tensor, v: Tensor, tNew: number): void {
    if (layer < 0 || layer >= this.shape.layers) throw new KernelInputError('kv-cache', `no layer ${layer} (have ${this.shape.layers})`);
    if (tNew > this.remaining) {
      throw new KernelInputError('kv-cache', `${tNew} new tokens exceed the context: ${this.len} of ${this.shape.capacity} positions are used`);
    }
    const params = { batch: this.shape.batch, tNew, kvHeads: this.shape.kvHeads, headDim: this.shape.headDim, sCap: this.shape.capacity, pos: this.len };
    this.rt.run(kvAppend, [k], [this.keys[layer] as Tensor], params);
    this.rt.run(kvAppend, [v], [this.values[layer] as Tensor], params);
  }

  /** Make the rows appended by the current step visible. */
  advance(tNew: number): void {
    if (tNew > this.remaining) throw new KernelInputError('kv-cache', `cannot advance ${tNew} past the capacity ${this.shape.capacity}`);
    this.len += tNew;
  }

  /** Keep only the first `length` rows (a shared prompt prefix between turns). */
  truncate(length: number): void {
    if (length < 0 || length > this.len) throw new KernelInputError('kv-cache', `cannot truncate to ${length}: ${this.len} rows are valid`);
    this.len = length;
  }

  release(): void {
    for (const t of [...this.keys, ...this.values]) this.rt.release(t);
  }
}
