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
import type { NativeIdefics3 } from '../native/idefics3';
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

/**
 * Idefics3 (SmolVLM): the SigLIP tower and the connector's pixel shuffle are
 * frozen; its one linear projection is the projector. Each tile is an image
 * of imageSeqLength tokens (TrainExample.pixels lists the tiles in order).
 */
export function idefics3Host(model: NativeIdefics3): LoraHost {
  const v = model.config.vision;
  return {
    rt: model.rt,
    decoder: model.decoder,
    imageTokenId: model.config.imageTokenId,
    imageSeqLength: model.config.imageSeqLength,
    visionFeatures: (s, pixels, label) => model.pixelShuffle(s, model.vision.forward(s, s.upload(pixels, [v.numChannels, v.imageSize, v.imageSize], label))),
    projector: [{ path: 'model.connector.modality_projection.proj', lin: model.projection }],
    projectorAct: 'gelu_erf',
  };
}
