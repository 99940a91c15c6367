/**
 * Adapter and device acquisition. Everything GPU-side starts here, in the
 * page, in the worker and in Node (through the `webgpu` package), so the
 * caller passes the `GPU` object instead of this module reaching for
 * `navigator.gpu`.
 */

/** Features we branch on. Others are ignored. */
export const KNOWN_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'] as const;
export type KnownFeature = (typeof KNOWN_FEATURES)[number];

/** The limits that decide tensor sizes and workgroup shapes. */
export const KEY_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;
export type KeyLimit = (typeof KEY_LIMITS)[number];

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  features: Record<KnownFeature, boolean>;
  limits: Record<KeyLimit, number>;
}

export type GpuErrorCode = 'no-webgpu' | 'no-adapter' | 'device-failed' | 'device-lost';

/** Raised when WebGPU cannot be used at all; `code` tells the UI what to say. */
export class GpuUnavailableError extends Error {
  override readonly name = 'GpuUnavailableError';
  constructor(
    readonly code: GpuErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface Gpu {
  adapter: GPUAdapter;
  device: GPUDevice;
  report: AdapterReport;
  /** Resolves when the device is lost (destroyed or a driver reset). */
  lost: Promise<GPUDeviceLostInfo>;
}

export function describeAdapter(adapter: GPUAdapter): AdapterReport {
  const info = adapter.info;
  const features = Object.fromEntries(
    KNOWN_FEATURES.map((f) => [f, adapter.features.has(f)]),
  ) as Record<KnownFeature, boolean>;
  const limits = Object.fromEntries(KEY_LIMITS.map((l) => [l, adapter.limits[l]])) as Record<
    KeyLimit,
    number
  >;
  // `isFallbackAdapter` moved from the adapter to its info; read whichever exists.
  const legacy = adapter as GPUAdapter & { isFallbackAdapter?: boolean };
  const infoFallback = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter: Boolean(infoFallback ?? legacy.isFallbackAdapter ?? false),
    features,
    limits,
  };
}

/** SwiftShader and other software adapters: CPU threads, not GPU cores, run the shaders. */
export function isCpuEmulated(facts: Pick<AdapterReport, 'vendor' | 'architecture' | 'isFallbackAdapter'>): boolean {
  return facts.isFallbackAdapter || (facts.vendor === 'google' && facts.architecture === 'swiftshader');
}

/** A one-line human name for status bars and logs. */
export function adapterName(report: AdapterReport): string {
  const parts = [report.vendor, report.architecture, report.device, report.description]
    .map((s) => s.trim())
    .filter((s, i, all) => s !== '' && all.indexOf(s) === i);
  const name = parts.length > 0 ? parts.join(' ') : 'unknown adapter';
  return report.isFallbackAdapter ? `${name} (software fallback)` : name;
}

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Ask for these features when the adapter has them. */
  wantFeatures?: readonly KnownFeature[];
}

export async function acquireGpu(gpu: GPU | undefined, options: AcquireOptions = {}): Promise<Gpu> {
  if (!gpu) {
    throw new GpuUnavailableError('no-webgpu', 'This browser does not expose WebGPU (navigator.gpu is missing).');
  }
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new GpuUnavailableError('no-adapter', 'WebGPU is present but no GPU adapter is available.');
  }
  const wanted = options.wantFeatures ?? KNOWN_FEATURES;
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
  // Ask for the adapter's own maxima on the limits we size tensors by; the
  // defaults (128 MiB bindings) are far below what model weights need.
  const requiredLimits: Record<string, number> = {};
  for (const l of KEY_LIMITS) requiredLimits[l] = adapter.limits[l];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ label: 'webvlm.device', requiredFeatures, requiredLimits });
  } catch (err) {
    throw new GpuUnavailableError('device-failed', `The GPU adapter refused to create a device: ${String(err)}`);
  }
  return { adapter, device, report: describeAdapter(adapter), lost: device.lost };
}
