/** The native WGSL engine for LLaVA behind the VlmEngine interface, with LoRA adapters attached, detached or merged. */
import type { GpuRuntime } from '../../webgpu/runtime';
import type { LlavaConfig } from '../config';
import type { LoraAdapterData } from '../lora/types';
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

  /** Forgets the prompt in the KV cache: it was computed with weights that changed (an adapter attached, removed or merged). */
  forgetPrompt(): void {
    this.cache.truncate(0);
  }

  /** Attach an adapter unmerged, or detach it with null; the cached prompt no longer matches, so it is dropped. */
  setAdapter(adapter: LoraAdapterData | null): void {
    this.model.setAdapter(adapter);
    this.forgetPrompt();
  }

  /** Fold an adapter into the weights (it stays until the model is reloaded); the cached prompt is dropped. */
  async mergeAdapter(adapter: LoraAdapterData): Promise<void> {
    try {
      await this.model.mergeAdapter(adapter);
    } finally {
      this.forgetPrompt();
    }
  }
}
