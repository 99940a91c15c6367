/**
 * The native WGSL engine for Idefics3 (SmolVLM) behind the VlmEngine
 * interface, as NativeEngine is for LLaVA. An ImageInput here is one tile (a
 * crop or the global view): each tile's run of image tokens is what the
 * prompt cache keys and skips.
 */
import type { GpuRuntime } from '../../webgpu/runtime';
import type { Idefics3Config } from '../config';
import type { SafetensorsFile } from '../safetensors';
import { NativeIdefics3 } from './idefics3';
import { NativeVlmEngine } from './vlm-engine';
import type { WeightOptions } from './weights';

export class NativeIdefics3Engine extends NativeVlmEngine<NativeIdefics3> {
  constructor(rt: GpuRuntime, config: Idefics3Config, file: SafetensorsFile, options: WeightOptions = {}, contextLength = config.text.maxPositions) {
    super(rt, new NativeIdefics3(rt, config, file, options), contextLength);
  }
}
