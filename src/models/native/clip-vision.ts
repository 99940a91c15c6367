/**
 * The CLIP vision tower (HF modeling_clip.py: CLIPVisionEmbeddings,
 * CLIPEncoderLayer, CLIPVisionTransformer) on our kernels. One image at a
 * time: [3, S, S] pixels -> hidden states [1 + N, C] of the requested layer.
 */
import type { Tensor } from '../../webgpu/tensor';
import type { VisionConfig } from '../config';
import { addOp, layerNormOp, type Scope } from './ops';
import { patchEmbed, patchEmbeddingWeights, VitEncoderLayers } from './vit-encoder';
import type { Linear, Weights } from './weights';

export class ClipVisionTower {
  /** The patch convolution has no bias in CLIP. */
  private readonly patchEmbedding: Linear;
  private readonly classEmbedding: Tensor;
  private readonly positions: Tensor;
  private readonly preNorm: [Tensor, Tensor];
  readonly encoder: VitEncoderLayers;
  readonly numPatches: number;

  constructor(
    w: Weights,
    readonly config: VisionConfig,
    /** Encoder layers to run: the feature layer LLaVA reads is an intermediate one. */
    layersNeeded: number,
    prefix = 'vision_tower.vision_model',
  ) {
    const c = config;
    const side = c.imageSize / c.patchSize;
    this.numPatches = side * side;
    this.patchEmbedding = patchEmbeddingWeights(w, c, prefix, false);
    this.classEmbedding = w.tensor(`${prefix}.embeddings.class_embedding`, [c.hiddenSize]);
    this.positions = w.tensor(`${prefix}.embeddings.position_embedding.weight`, [this.numPatches + 1, c.hiddenSize]);
    this.preNorm = [w.tensor(`${prefix}.pre_layrnorm.weight`, [c.hiddenSize]), w.tensor(`${prefix}.pre_layrnorm.bias`, [c.hiddenSize])];
    this.encoder = new VitEncoderLayers(w, c, prefix, layersNeeded, 'vision');
  }

  /** Embeddings: [class; patches] + positions, then pre_layrnorm. pixels [3, S, S] -> [1 + N, C]. */
  embed(s: Scope, pixels: Tensor): Tensor {
    const c = this.config;
    const n = this.numPatches;
    const embedded = patchEmbed(s, c, pixels, this.patchEmbedding, 'vision');
    const tokens = s.empty([n + 1, c.hiddenSize], 'vision.tokens');
    s.rt.copy(this.classEmbedding, 0, tokens, 0, c.hiddenSize);
    s.rt.copy(embedded, 0, tokens, c.hiddenSize, n * c.hiddenSize);
    const withPos = addOp(s, tokens, this.positions, 'vision.embeddings');
    return layerNormOp(s, withPos, this.preNorm[0], this.preNorm[1], c.layerNormEps, 'vision.pre-norm');
  }

  /** Hidden state after the constructor's number of layers: [1 + N, C] (row 0 is the class token). */
  forward(s: Scope, pixels: Tensor): Tensor {
    return this.encoder.forward(s, this.embed(s, pixels));
  }
}
