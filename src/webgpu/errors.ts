/** Thrown before dispatch when a kernel's inputs do not fit its contract. */
export class KernelInputError extends Error {
  override readonly name = 'KernelInputError';
  constructor(
    readonly kernel: string,
    detail: string,
    readonly shapes: readonly (readonly number[])[] = [],
  ) {
    const shapeText = shapes.length > 0 ? ` (shapes: ${shapes.map((s) => `[${s.join(',')}]`).join(' ')})` : '';
    super(`${kernel}: ${detail}${shapeText}`);
  }
}

/** Thrown when a tensor or dispatch would exceed a device limit. */
export class DeviceLimitError extends Error {
  override readonly name = 'DeviceLimitError';
  constructor(
    readonly limit: string,
    readonly requested: number,
    readonly allowed: number,
    what: string,
  ) {
    super(`${what} needs ${requested} but the device limit ${limit} is ${allowed}`);
  }
}

/** A WebGPU validation or shader-compilation error reported by the device, raised on the next runtime call. */
export class GpuValidationError extends Error {
  override readonly name = 'GpuValidationError';
}

/** The device could not allocate: a model or request too large for the GPU memory left. */
export class GpuOutOfMemoryError extends Error {
  override readonly name = 'GpuOutOfMemoryError';
}
