/**
 * Where the transformers engine runs its sessions: WebGPU on a real GPU; wasm
 * on a software adapter (SwiftShader, where ORT's wasm kernels beat emulated
 * shaders) or with no adapter, as the OCR decides; onnxruntime-node's CPU in
 * Node tests.
 */
import type { TjsDevice } from '../../models/transformers/transformers-vlm';
import { describeAdapter, isCpuEmulated } from '../../webgpu/device';

export type DeviceChooser = () => Promise<TjsDevice>;

export const chooseTransformersDevice: DeviceChooser = async () => {
  if (typeof location === 'undefined') return 'cpu';
  // transformers.js points ORT at a CDN for its wasm files unless they are set: ours are served with the app.
  const { browserOrt } = await import('../../models/onnx/ort-browser');
  browserOrt();
  const gpu = (globalThis.navigator as Navigator & { gpu?: GPU }).gpu;
  const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
  if (!adapter || isCpuEmulated(describeAdapter(adapter))) return 'wasm';
  return 'webgpu';
};
