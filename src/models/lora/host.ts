/**
 * What LoRA training needs of a native model: a Llama decoder, a frozen
 * image encoder, and a projector (a chain of linear layers with one
 * activation between them) whose output is written over the image tokens.
 * LLaVA provides it today; another family (SmolVLM's SigLIP and connector)
 * provides the same and trains with the same code.
 */
import type { ActivationOp } from '../../webgpu/kernels/activations';
import type { GpuRuntime } from '../../webgpu/runtime';
import type { Tensor } from '../../webgpu/tensor';
import type { LlamaDecoder } from '../native/llama-decoder';
import type { NativeLlava } from '../native/llava';
import { activationFor, type Scope } from '../native/ops';
import type { Linear } from '../native/weights';

export interface ProjectorLayer {
  /** HF module path, e.g. multi_modal_projector.linear_1. */
  path: string;
  lin: Linear;
}

export interface LoraHost {
  readonly rt: GpuRuntime;
  readonly decoder: LlamaDecoder;
  readonly imageTokenId: number;
  /** Image tokens per image. */
  readonly imageSeqLength: number;
  /** Pixel values of one image -> frozen features [imageSeqLength, width] (the projector's input). */
  visionFeatures(s: Scope, pixels: Float32Array, label: string): Tensor;
  /** The projector's linear layers in order; the activation runs between consecutive ones. */
  readonly projector: readonly ProjectorLayer[];
  readonly projectorAct: ActivationOp;
}

export function llavaHost(model: NativeLlava): LoraHost {
  const c = model.config;
  const size = c.vision.imageSize;
  return {
    rt: model.rt,
    decoder: model.decoder,
    imageTokenId: c.imageTokenIndex,
    imageSeqLength: c.imageSeqLength,
    visionFeatures: (s, pixels, label) => model.visionFeatures(s, s.upload(pixels, [c.vision.numChannels, size, size], label)),
    projector: model.projector.map((lin, i) => ({ path: `multi_modal_projector.linear_${i + 1}`, lin })),
    projectorAct: activationFor(c.projectorHiddenAct),
  };
}
