/** A GPU buffer with a shape. Contiguous, row-major. */
export type DType = 'f32' | 'i32' | 'u32';

export const BYTES_PER_ELEMENT: Record<DType, number> = { f32: 4, i32: 4, u32: 4 };

export interface Tensor {
  readonly buffer: GPUBuffer;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly label: string;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export function byteSize(shape: readonly number[], dtype: DType): number {
  return numel(shape) * BYTES_PER_ELEMENT[dtype];
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** The same buffer seen with another shape of the same element count (a reshape, no copy). */
export function view(t: Tensor, shape: readonly number[]): Tensor {
  if (numel(shape) !== numel(t.shape)) {
    throw new Error(`cannot view ${t.label} ${shapeText(t.shape)} as ${shapeText(shape)}: element counts differ`);
  }
  return { ...t, shape: [...shape] };
}
