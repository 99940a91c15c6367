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
import type { EncoderLayerWeights } from '../native/vit-encoder';
import type { Linear } from '../native/weights';

export interface ProjectorLayer {
  /** HF module path, e.g. multi_modal_projector.linear_1. */
  path: string;
  lin: Linear;
}

/**
 * A pre-norm ViT encoder (CLIP, SigLIP: x + attn(ln1(x)), then + mlp(ln2(.)),
 * biased q/k/v/out, full attention, fc1 -> act -> fc2) whose last layers can
 * carry LoRA. The image step is: frozen part up to layer `first`, the layers
 * [first, layers.length) with their adapters, then `featureRows` of the last
 * layer's output are the projector's input.
 */
export interface VisionLoraHost {
  /** HF module path of the encoder (vision_tower.vision_model.encoder): where PEFT names its layers. */
  readonly path: string;
  /** The layers the features pass through, in order. */
  readonly layers: readonly EncoderLayerWeights[];
  readonly heads: number;
  readonly eps: number;
  readonly act: ActivationOp;
  /** Pixel values of one image -> the hidden state entering layer `first` [T, C]. */
  hiddenBefore(s: Scope, pixels: Float32Array, first: number, label: string): Tensor;
  /** Rows of the last layer's output [T, C] that become the projector's input, in order. */
  readonly featureRows: { start: number; count: number };
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
  /** HF module paths of the input embedding and the output layer (where trained token rows are named). */
  readonly tokenPaths?: { embed: string; lmHead: string };
  /** The vision encoder, when LoRA may train its last layers (absent: the image step is frozen). */
  readonly vision?: VisionLoraHost;
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
    tokenPaths: { embed: `${model.decoder.modelPath}.embed_tokens`, lmHead: `${model.decoder.prefix}.lm_head` },
    // Pooled features mix patches, which the vision backward does not undo: such a tower stays frozen.
    ...(c.imagePooling > 1 ? {} : { vision: llavaVision(model) }),
  };
}

function llavaVision(model: NativeLlava): VisionLoraHost {
  const c = model.config;
  const v = c.vision;
  const tower = model.vision;
  const n = tower.numPatches;
  return {
    path: 'vision_tower.vision_model.encoder',
    layers: tower.encoder.layers,
    heads: v.numHeads,
    eps: v.layerNormEps,
    act: activationFor(v.hiddenAct),
    hiddenBefore: (s, pixels, first, label) => tower.encoder.forward(s, tower.embed(s, s.upload(pixels, [v.numChannels, v.imageSize, v.imageSize], label)), 0, first),
    featureRows: c.visionFeatureSelect === 'default' ? { start: 1, count: n } : { start: 0, count: n + 1 },
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
    // No tokenPaths or vision yet: Idefics3's adapter at inference applies decoder LoRA only, so rows or tower layers trained here would be lost.
  };
}
