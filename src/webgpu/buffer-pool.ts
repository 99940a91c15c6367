/**
 * Reuses GPU buffers by exact (rounded) size and usage, so a decode step that
 * asks for the same temporaries as the last one allocates nothing new. Buffers
 * go back to the pool only when their owner says so (release), after the work
 * using them is submitted; queue order makes reuse after submit safe.
 */
const ALIGN = 256;

export interface PoolStats {
  /** Buffers created over the pool's life. */
  created: number;
  /** Bytes currently held by live (acquired) and free buffers. */
  bytesHeld: number;
  /** The largest bytesHeld ever reached. */
  peakBytes: number;
}

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly stats: PoolStats = { created: 0, bytesHeld: 0, peakBytes: 0 };

  constructor(private readonly device: GPUDevice) {}

  static roundSize(bytes: number): number {
    return Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  }

  acquire(bytes: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const size = BufferPool.roundSize(bytes);
    const list = this.free.get(key(size, usage));
    const reused = list?.pop();
    if (reused) {
      reused.label = label;
      return reused;
    }
    const buffer = this.device.createBuffer({ label, size, usage });
    this.stats.created++;
    this.stats.bytesHeld += size;
    this.stats.peakBytes = Math.max(this.stats.peakBytes, this.stats.bytesHeld);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    const k = key(buffer.size, buffer.usage);
    let list = this.free.get(k);
    if (!list) {
      list = [];
      this.free.set(k, list);
    }
    if (!list.includes(buffer)) list.push(buffer);
  }

  /** Destroy every free buffer (live ones stay with their owners). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.stats.bytesHeld -= b.size;
        b.destroy();
      }
    }
    this.free.clear();
  }

  snapshot(): PoolStats {
    return { ...this.stats };
  }
}

function key(size: number, usage: GPUBufferUsageFlags): string {
  return `${size}:${usage}`;
}
