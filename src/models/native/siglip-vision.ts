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
import { attention } from '../../webgpu/kernels/attention';
import { im2col } from '../../webgpu/kernels/im2col';
import { view, type Tensor } from '../../webgpu/tensor';
import type { VisionConfig } from '../config';
import { activationFor, activationOp, addOp, layerNormOp, linear, type Scope } from './ops';
import type { Linear, Weights } from './weights';

interface SiglipLayerWeights {
  ln1: [Tensor, Tensor];
  ln2: [Tensor, Tensor];
  q: Linear;
  k: Linear;
  v: Linear;
  out: Linear;
  fc1: Linear;
  fc2: Linear;
}

export class SiglipVisionTower {
  /** Conv2d(C_in, C, P, stride P) as a linear layer over im2col's columns. */
  private readonly patchEmbedding: Linear;
  private readonly positions: Tensor;
  private readonly layers: SiglipLayerWeights[] = [];
  private readonly postNorm: [Tensor, Tensor];
  private readonly noMask: Tensor;
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
    const patchLen = c.numChannels * c.patchSize * c.patchSize;
    // Conv2d weight [C, Cin, P, P] flattens to [C, Cin*P*P], matching im2col's column order.
    this.patchEmbedding = {
      n: h,
      k: patchLen,
      bias: w.tensor(`${prefix}.embeddings.patch_embedding.bias`, [h]),
      weight: { kind: 'f32', w: w.tensor(`${prefix}.embeddings.patch_embedding.weight`, [h, patchLen]) },
    };
    this.positions = w.tensor(`${prefix}.embeddings.position_embedding.weight`, [this.numPatches, h]);
    for (let i = 0; i < c.numLayers; i++) {
      const p = `${prefix}.encoder.layers.${i}`;
      this.layers.push({
        ln1: [w.tensor(`${p}.layer_norm1.weight`, [h]), w.tensor(`${p}.layer_norm1.bias`, [h])],
        ln2: [w.tensor(`${p}.layer_norm2.weight`, [h]), w.tensor(`${p}.layer_norm2.bias`, [h])],
        q: w.linear(`${p}.self_attn.q_proj`, h, h, true),
        k: w.linear(`${p}.self_attn.k_proj`, h, h, true),
        v: w.linear(`${p}.self_attn.v_proj`, h, h, true),
        out: w.linear(`${p}.self_attn.out_proj`, h, h, true),
        fc1: w.linear(`${p}.mlp.fc1`, c.intermediateSize, h, true),
        fc2: w.linear(`${p}.mlp.fc2`, h, c.intermediateSize, true),
      });
    }
    this.postNorm = [w.tensor(`${prefix}.post_layernorm.weight`, [h]), w.tensor(`${prefix}.post_layernorm.bias`, [h])];
    // attention's mask slot is always bound; full tiles never mask.
    this.noMask = w.constant(new Int32Array([1]), [1], 'siglip.no-mask');
  }

  /** Idefics3VisionEmbeddings: patch_embedding (conv with bias) + position_embedding(0..N-1). [3, S, S] -> [N, C]. */
  private embed(s: Scope, pixels: Tensor): Tensor {
    const c = this.config;
    const patches = s.empty([this.numPatches, this.patchEmbedding.k], 'siglip.patches');
    s.rt.run(im2col, [view(pixels, [1, c.numChannels, c.imageSize, c.imageSize])], [patches], {
      batch: 1,
      channels: c.numChannels,
      height: c.imageSize,
      width: c.imageSize,
      patch: c.patchSize,
    });
    const embedded = linear(s, patches, this.patchEmbedding, 'siglip.patch-embeds');
    return addOp(s, embedded, this.positions, 'siglip.embeddings');
  }

  /** Idefics3EncoderLayer: x + attn(layer_norm1(x)), then + mlp(layer_norm2(.)); attention with biases, tanh-GELU MLP. */
  private layer(s: Scope, x: Tensor, l: SiglipLayerWeights, i: number): Tensor {
    const c = this.config;
    const t = x.shape[0] as number;
    const heads = c.numHeads;
    const d = c.hiddenSize / heads;
    const h = layerNormOp(s, x, l.ln1[0], l.ln1[1], c.layerNormEps, `siglip.${i}.ln1`);
    const q = linear(s, h, l.q, `siglip.${i}.q`);
    const k = linear(s, h, l.k, `siglip.${i}.k`);
    const v = linear(s, h, l.v, `siglip.${i}.v`);
    const o = s.empty([t, c.hiddenSize], `siglip.${i}.attn`);
    const shape = [1, t, heads, d];
    s.rt.run(attention, [view(q, shape), view(k, shape), view(v, shape), this.noMask], [view(o, shape)], {
      batch: 1,
      tLen: t,
      sLen: t,
      heads,
      kvHeads: heads,
      headDim: d,
      causal: false,
      hasMask: false,
    });
    const afterAttn = linear(s, o, l.out, `siglip.${i}.out`, { epilogue: 'residual', residual: x });
    const h2 = layerNormOp(s, afterAttn, l.ln2[0], l.ln2[1], c.layerNormEps, `siglip.${i}.ln2`);
    const mid = activationOp(s, linear(s, h2, l.fc1, `siglip.${i}.fc1`), activationFor(c.hiddenAct), `siglip.${i}.act`);
    return linear(s, mid, l.fc2, `siglip.${i}.fc2`, { epilogue: 'residual', residual: afterAttn });
  }

  /** Idefics3VisionTransformer: embeddings, every encoder layer, post_layernorm. [3, S, S] -> [N, C]. */
  forward(s: Scope, pixels: Tensor): Tensor {
    const c = this.config;
    let x = this.embed(s, pixels);
    this.layers.forEach((l, i) => {
      x = this.layer(s, x, l, i);
    });
    return layerNormOp(s, x, this.postNorm[0], this.postNorm[1], c.layerNormEps, 'siglip.post-norm');
  }
}
