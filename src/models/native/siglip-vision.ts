/**
 * The SigLIP vision tower as Idefics3 uses it (HF modeling_idefics3.py:
 * Idefics3VisionEmbeddings, Idefics3EncoderLayer, Idefics3VisionTransformer;
 * the same blocks as modeling_siglip.py) on our kernels. One tile at a time:
 * [3, S, S] pixels -> post_layernorm'd hidden states [N, C], N = (S / P)^2.
 *
 * Unlike CLIP there is no class token and no pre-norm of the embeddings; the
 * patch convolution has a bias and every patch adds its learned position.
 * Tiles are always full here (the processor crops and resizes to S x S, never
 * pads), so every patch is real: the position ids are 0..N-1 and no patch
 * attention mask is needed. A padded tile (HF's pixel_attention_mask with
 * false patches) would need both, and is refused by the processor instead.
 */
import type { Tensor } from '../../webgpu/tensor';
import type { VisionConfig } from '../config';
import { addOp, layerNormOp, type Scope } from './ops';
import { patchEmbed, patchEmbeddingWeights, VitEncoderLayers } from './vit-encoder';
import type { Linear, Weights } from './weights';

export class SiglipVisionTower {
  /** The patch convolution has a bias in SigLIP. */
  private readonly patchEmbedding: Linear;
  private readonly positions: Tensor;
  /** Idefics3EncoderLayer x num_hidden_layers: pre-norm, attention with biases, tanh-GELU MLP. */
  private readonly encoder: VitEncoderLayers;
  private readonly postNorm: [Tensor, Tensor];
  readonly numPatches: number;

  constructor(
    w: Weights,
    readonly config: VisionConfig,
    prefix = 'model.vision_model',
  ) {
    const c = config;
    const h = c.hiddenSize;
    const side = c.imageSize / c.patchSize;
    this.numPatches = side * side;
    this.patchEmbedding = patchEmbeddingWeights(w, c, prefix, true);
    this.positions = w.tensor(`${prefix}.embeddings.position_embedding.weight`, [this.numPatches, h]);
    this.encoder = new VitEncoderLayers(w, c, prefix, c.numLayers, 'siglip');
    this.postNorm = [w.tensor(`${prefix}.post_layernorm.weight`, [h]), w.tensor(`${prefix}.post_layernorm.bias`, [h])];
  }

  /** Idefics3VisionEmbeddings: patch_embedding (conv with bias) + position_embedding(0..N-1). [3, S, S] -> [N, C]. */
  private embed(s: Scope, pixels: Tensor): Tensor {
    return addOp(s, patchEmbed(s, this.config, pixels, this.patchEmbedding, 'siglip'), this.positions, 'siglip.embeddings');
  }

  /** Idefics3VisionTransformer: embeddings, every encoder layer, post_layernorm. [3, S, S] -> [N, C]. */
  forward(s: Scope, pixels: Tensor): Tensor {
    const x = this.encoder.forward(s, this.embed(s, pixels));
    return layerNormOp(s, x, this.postNorm[0], this.postNorm[1], this.config.layerNormEps, 'siglip.post-norm');
  }
}
