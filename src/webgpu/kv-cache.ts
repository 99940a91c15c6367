/**
 * Keys and values of every decoder layer, kept on the GPU between steps.
 * Layout per layer: [B, capacity, Hkv, D], the first `length` rows valid.
 * A step appends its new rows to every layer, then advances the length once.
 * The capacity can grow (reserve): the valid rows move to larger buffers, so
 * a cache is sized to what a turn needs, not to the model's longest context.
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
  private dims: KvCacheShape;

  constructor(
    private readonly rt: GpuRuntime,
    shape: KvCacheShape,
    private readonly label = 'kv-cache',
  ) {
    this.dims = { ...shape };
    this.keys = this.allocate('k');
    this.values = this.allocate('v');
  }

  get shape(): KvCacheShape {
    return this.dims;
  }

  /**
   * Grow to at least `capacity` rows: new buffers, the valid rows of every
   * layer copied over (recorded into the current step, before anything that
   * reads them) and submitted, the old buffers given back. Never shrinks.
   */
  reserve(capacity: number): void {
    const old = this.dims.capacity;
    if (capacity <= old) return;
    const row = this.dims.kvHeads * this.dims.headDim;
    this.dims = { ...this.dims, capacity };
    for (const [list, name] of [[this.keys, 'k'], [this.values, 'v']] as const) {
      const next = this.allocate(name);
      list.forEach((t, i) => {
        const dst = next[i] as Tensor;
        for (let b = 0; b < this.dims.batch; b++) this.rt.copy(t, b * old * row, dst, b * capacity * row, this.len * row);
        this.rt.release(t);
        list[i] = dst;
      });
    }
    // Submitted now, so a step discarded later (a Stop) cannot drop the copies.
    this.rt.submit();
  }

  private allocate(name: 'k' | 'v'): Tensor[] {
    const s = this.dims;
    const dims = [s.batch, s.capacity, s.kvHeads, s.headDim];
    return Array.from({ length: s.layers }, (_, i) => this.rt.empty(dims, 'f32', `${this.label}.${name}${i}`));
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
