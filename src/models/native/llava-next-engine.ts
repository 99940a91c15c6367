/**
 * The native WGSL engine for LLaVA-NeXT (llava_next) behind the VlmEngine
 * interface: NativeVlmEngine, as for LLaVA and SmolVLM (prompt-cache reuse,
 * a KV cache sized to the turn and grown, greedy argmax on the GPU,
 * adapters). An image here is one ImageInput carrying all its views and its
 * size (anyresInput): its prompt tokens are one contiguous run, which the
 * prompt cache keys and skips.
 */
import type { GpuRuntime } from '../../webgpu/runtime';
import type { LlavaConfig } from '../config';
import type { ImageInput } from '../engine';
import type { SafetensorsFile } from '../safetensors';
import { asAnyres, NativeLlavaNext } from './llava-next';
import { NativeVlmEngine } from './vlm-engine';
import type { WeightOptions } from './weights';

export { anyresInput, type AnyresImageInput } from './llava-next';

export class NativeLlavaNextEngine extends NativeVlmEngine<NativeLlavaNext> {
  constructor(rt: GpuRuntime, config: LlavaConfig, file: SafetensorsFile, options: WeightOptions = {}, contextLength = config.text.maxPositions) {
    super(rt, new NativeLlavaNext(rt, config, file, options), contextLength);
  }

  /** Every image is checked for its views before the cache is touched, even one the prompt cache would skip. */
  override async prefill(ids: Int32Array, images: readonly ImageInput[], signal?: AbortSignal): Promise<Float32Array> {
    images.forEach(asAnyres);
    return super.prefill(ids, images, signal);
  }
}
