/**
 * Runs kernel specs on a device: caches shader modules and pipelines by the
 * spec's key, records every dispatch of a step into one command encoder and
 * submits once per step, takes buffers from a pool so repeated steps allocate
 * nothing new, and reads tensors back.
 */
import { BufferPool, type PoolStats } from './buffer-pool';
import { GpuUnavailableError, isCpuEmulated, type Gpu } from './device';
import { DeviceLimitError, GpuOutOfMemoryError, GpuValidationError } from './errors';
import { resolveParams, type KernelContext, type KernelSpec } from './kernel';
import { BYTES_PER_ELEMENT, byteSize, numel, type DType, type Tensor } from './tensor';

type HostArray = Float32Array | Int32Array | Uint32Array;

// Read when called, not at import: in Node the GPU globals are installed after this module loads.
const STORAGE_USAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
const UNIFORM_USAGE = () => GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
const READBACK_USAGE = () => GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;

export class GpuRuntime {
  readonly device: GPUDevice;
  readonly ctx: KernelContext;
  /** Shader modules by their WGSL text. */
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private encoder: GPUCommandEncoder | null = null;
  /** Uniform buffers of the open step, back to the pool once it is submitted. */
  private stepUniforms: GPUBuffer[] = [];
  /** Buffers released while the open step still uses them. */
  private deferredRelease: GPUBuffer[] = [];
  private readonly pool: BufferPool;
  private lostReason: string | null = null;
  /** The first error the device reported asynchronously, raised by the next call. */
  private deviceError: { message: string; outOfMemory: boolean } | null = null;

  constructor(readonly gpu: Gpu) {
    this.device = gpu.device;
    this.pool = new BufferPool(gpu.device);
    void gpu.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
    // Pipeline creation and dispatch report errors asynchronously; without this
    // a kernel that failed to compile would leave its outputs untouched silently.
    gpu.device.addEventListener('uncapturederror', (event) => {
      const { error } = event as GPUUncapturedErrorEvent;
      this.deviceError ??= { message: error.message, outOfMemory: isOutOfMemory(error) };
    });
    const { features, limits } = gpu.report;
    this.ctx = {
      cpuEmulated: isCpuEmulated(gpu.report),
      features: { 'shader-f16': features['shader-f16'], subgroups: features.subgroups },
      limits: {
        maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      },
    };
  }

  /** A tensor with undefined contents, from the pool. Give it back with release(). */
  empty(shape: readonly number[], dtype: DType, label: string): Tensor {
    const size = byteSize(shape, dtype);
    this.checkBindingSize(size, label);
    this.checkAlive();
    const buffer = this.pool.acquire(size, STORAGE_USAGE(), label);
    return { buffer, shape: [...shape], dtype, label };
  }

  /**
   * Return a tensor's buffer to the pool; the tensor must not be used again.
   * While a step is being recorded the buffer goes back only after that step
   * is submitted: uploads run ahead of recorded work, so handing it out now
   * could let a later upload overwrite data the step has yet to read.
   */
  release(t: Tensor): void {
    if (this.encoder) this.deferredRelease.push(t.buffer);
    else this.pool.release(t.buffer);
  }

  /** Buffers created and bytes held, for tests and the memory figures of benchmarks. */
  memory(): PoolStats {
    return this.pool.snapshot();
  }

  /** Destroy the pool's free buffers. */
  trim(): void {
    this.pool.trim();
  }

  /**
   * Runs `fn` (a model's uploads) with the device's out-of-memory and
   * validation errors captured, so that a failed allocation rejects here as
   * GpuOutOfMemoryError naming `what`, instead of surfacing at some later call
   * as a validation error of a buffer that was never made. On a rejection
   * the caller releases what `fn` allocated.
   */
  async allocating<T>(what: string, fn: () => T | Promise<T>): Promise<T> {
    this.device.pushErrorScope('validation');
    this.device.pushErrorScope('out-of-memory');
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await fn() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const oom = await this.device.popErrorScope();
    const invalid = await this.device.popErrorScope();
    if (oom) throw new GpuOutOfMemoryError(`The GPU ran out of memory for ${what}: ${oom.message}`);
    if (!outcome.ok) throw outcome.error;
    if (invalid) throw new GpuValidationError(`WebGPU reported an error for ${what}: ${invalid.message}`);
    return outcome.value;
  }

  /**
   * Forget a step that was recorded but will not be submitted (a Stop or an
   * error in the middle of recording): nothing of it runs, so its buffers can
   * go back to the pool at once.
   */
  discardStep(): void {
    this.encoder = null;
    for (const b of [...this.stepUniforms, ...this.deferredRelease]) this.pool.release(b);
    this.stepUniforms = [];
    this.deferredRelease = [];
  }

  upload(data: HostArray, shape: readonly number[], label: string): Tensor {
    const dtype: DType = data instanceof Float32Array ? 'f32' : data instanceof Int32Array ? 'i32' : 'u32';
    const t = this.empty(shape, dtype, label);
    this.device.queue.writeBuffer(t.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return t;
  }

  /** Overwrite a tensor's contents, e.g. to poison outputs in tests. */
  write(t: Tensor, data: HostArray): void {
    this.device.queue.writeBuffer(t.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  /**
   * Validate and record one dispatch into the current step's encoder. The
   * spec's params are resolved once here; every spec method sees that value.
   */
  run<P, R>(spec: KernelSpec<P, R>, inputs: readonly Tensor[], outputs: readonly Tensor[], params: NoInfer<P>): void {
    const resolved = resolveParams(spec, params, this.ctx);
    spec.validate(inputs, outputs, resolved);
    this.checkAlive();
    const [x, y, z] = spec.dispatch(resolved, this.ctx);
    const maxGroups = this.ctx.limits.maxComputeWorkgroupsPerDimension;
    for (const g of [x, y, z]) {
      if (g > maxGroups) {
        throw new DeviceLimitError('maxComputeWorkgroupsPerDimension', g, maxGroups, `${spec.name} dispatch`);
      }
    }
    const key = spec.pipelineKey(resolved, this.ctx);
    const pipeline = this.pipeline(spec, resolved, key);
    const entries: GPUBindGroupEntry[] = [...inputs, ...outputs].map((t, binding) => ({
      binding,
      resource: { buffer: t.buffer },
    }));
    const uniformData = spec.uniforms(resolved, this.ctx);
    if (uniformData) {
      const ub = this.uniformBuffer(uniformData, `${spec.name}.uniforms`);
      entries.push({ binding: entries.length, resource: { buffer: ub } });
    }
    const bindGroup = this.device.createBindGroup({
      label: `${key}.bind`,
      layout: pipeline.getBindGroupLayout(0),
      entries,
    });
    this.encoder ??= this.device.createCommandEncoder({ label: 'runtime.step' });
    const pass = this.encoder.beginComputePass({ label: `${key}.pass` });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
  }

  /**
   * Record a copy of `count` elements between tensors (row slices, merging image
   * features into token embeddings); runs in order with the step's dispatches.
   */
  copy(src: Tensor, srcOffset: number, dst: Tensor, dstOffset: number, count: number): void {
    this.checkAlive();
    const bpe = BYTES_PER_ELEMENT[src.dtype];
    if (src.dtype !== dst.dtype) throw new Error(`copy from ${src.label} (${src.dtype}) to ${dst.label} (${dst.dtype}): dtypes differ`);
    if (srcOffset + count > numel(src.shape) || dstOffset + count > numel(dst.shape) || count < 0) {
      throw new Error(`copy of ${count} elements from ${src.label}@${srcOffset} to ${dst.label}@${dstOffset} runs past a tensor`);
    }
    if (count === 0) return;
    this.encoder ??= this.device.createCommandEncoder({ label: 'runtime.step' });
    this.encoder.copyBufferToBuffer(src.buffer, srcOffset * bpe, dst.buffer, dstOffset * bpe, count * bpe);
  }

  /** Submit everything recorded since the last submit as one command buffer. */
  submit(): void {
    if (!this.encoder) return;
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    for (const b of [...this.stepUniforms, ...this.deferredRelease]) this.pool.release(b);
    this.stepUniforms = [];
    this.deferredRelease = [];
  }

  /** Submit pending work and copy a tensor back to the host. */
  async read(t: Tensor): Promise<Float32Array | Int32Array | Uint32Array> {
    this.submit();
    this.checkAlive();
    const size = byteSize(t.shape, t.dtype);
    const staging = this.pool.acquire(size, READBACK_USAGE(), `${t.label}.readback`);
    const enc = this.device.createCommandEncoder({ label: `${t.label}.readback` });
    enc.copyBufferToBuffer(t.buffer, 0, staging, 0, Math.ceil(size / 4) * 4);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const bytes = staging.getMappedRange().slice(0, size);
    staging.unmap();
    this.pool.release(staging);
    // Errors of the work just read surface here rather than as stale data.
    this.checkAlive();
    if (t.dtype === 'i32') return new Int32Array(bytes);
    if (t.dtype === 'u32') return new Uint32Array(bytes);
    return new Float32Array(bytes);
  }

  async readF32(t: Tensor): Promise<Float32Array> {
    const data = await this.read(t);
    return data instanceof Float32Array ? data : Float32Array.from(data);
  }

  private pipeline<P, R>(spec: KernelSpec<P, R>, resolved: R, key: string): GPUComputePipeline {
    let pipeline = this.pipelines.get(key);
    if (pipeline) return pipeline;
    // Modules are cached by their text: specs that share a module (one WGSL
    // file, several entry points) compile it once, and two modules joined
    // from one body with different preludes never collide.
    let module = this.modules.get(spec.wgsl);
    if (!module) {
      module = this.device.createShaderModule({ label: `${spec.name}.module`, code: spec.wgsl });
      this.modules.set(spec.wgsl, module);
    }
    pipeline = this.device.createComputePipeline({
      label: key,
      layout: 'auto',
      compute: { module, entryPoint: spec.entryPoint(resolved, this.ctx), constants: spec.constants?.(resolved, this.ctx) ?? {} },
    });
    this.pipelines.set(key, pipeline);
    return pipeline;
  }

  private uniformBuffer(data: ArrayBuffer, label: string): GPUBuffer {
    // Each dispatch of a step needs its own buffer: writes land at submit-time
    // order, so two dispatches sharing one would both see the last write.
    const buffer = this.pool.acquire(data.byteLength, UNIFORM_USAGE(), label);
    this.device.queue.writeBuffer(buffer, 0, data);
    this.stepUniforms.push(buffer);
    return buffer;
  }

  private checkAlive(): void {
    if (this.lostReason !== null) {
      throw new GpuUnavailableError('device-lost', `The GPU device was lost (${this.lostReason}); start the runtime again.`);
    }
    if (this.deviceError !== null) {
      const { message, outOfMemory } = this.deviceError;
      this.deviceError = null;
      if (outOfMemory) throw new GpuOutOfMemoryError(`The GPU ran out of memory: ${message}`);
      throw new GpuValidationError(`WebGPU reported an error: ${message}`);
    }
  }

  private checkBindingSize(size: number, label: string): void {
    const allowed = this.ctx.limits.maxStorageBufferBindingSize;
    if (size > allowed) throw new DeviceLimitError('maxStorageBufferBindingSize', size, allowed, `tensor ${label}`);
  }
}

/** GPUOutOfMemoryError is missing from some runtimes' globals; its constructor name is the same everywhere. */
function isOutOfMemory(error: GPUError): boolean {
  return typeof GPUOutOfMemoryError !== 'undefined' ? error instanceof GPUOutOfMemoryError : error.constructor.name === 'GPUOutOfMemoryError';
}
