/** The native WGSL engine for LLaVA behind the VlmEngine interface; LoRA adapters are attached, detached or merged as on every native engine. */
import type { GpuRuntime } from '../../webgpu/runtime';
import type { LlavaConfig } from '../config';
import type { SafetensorsFile } from '../safetensors';
import { NativeLlava } from './llava';
import { NativeVlmEngine } from './vlm-engine';
import type { WeightOptions } from './weights';

export class NativeEngine extends NativeVlmEngine<NativeLlava> {
  constructor(rt: GpuRuntime, config: LlavaConfig, file: SafetensorsFile, options: WeightOptions = {}, contextLength = config.text.maxPositions) {
    super(rt, new NativeLlava(rt, config, file, options), contextLength);
  }

  /** The model itself, for LoRA: a run trains an adapter on its weights, and an adapter is attached to it for answers. */
  get llava(): NativeLlava {
    return this.model;
  }
}
