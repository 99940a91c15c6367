/**
 * The pieces CLIP and SigLIP towers share (HF CLIPEncoderLayer and
 * SiglipEncoderLayer are the same block): the patch embedding as im2col plus
 * a linear layer, and the stack of pre-norm encoder layers
 * x + attn(layer_norm1(x)), then + mlp(layer_norm2(.)), with biased q/k/v/out
 * projections, full (non-causal, unmasked) attention and fc1 -> act -> fc2.
 * Weights are read under `${prefix}.encoder.layers.${i}` by HF's names.
 */
import { attention } from '../../webgpu/kernels/attention';
import { im2col } from '../../webgpu/kernels/im2col';
import { view, type Tensor } from '../../webgpu/tensor';
import type { VisionConfig } from '../config';
import { activationFor, activationOp, layerNormOp, linear, type Scope } from './ops';
import type { Linear, Weights } from './weights';

export interface EncoderLayerWeights {
  ln1: [Tensor, Tensor];
  ln2: [Tensor, Tensor];
  q: Linear;
  k: Linear;
  v: Linear;
  out: Linear;
  fc1: Linear;
  fc2: Linear;
}

/**
 * embeddings.patch_embedding, Conv2d(C_in, C, P, stride P), as a linear layer
 * over im2col's columns: its weight [C, C_in, P, P] flattens to
 * [C, C_in P P] in the columns' order.
 */
export function patchEmbeddingWeights(w: Weights, c: VisionConfig, prefix: string, hasBias: boolean): Linear {
  const k = c.numChannels * c.patchSize * c.patchSize;
  const name = `${prefix}.embeddings.patch_embedding`;
  return {
    n: c.hiddenSize,
    k,
    bias: hasBias ? w.tensor(`${name}.bias`, [c.hiddenSize]) : null,
    weight: { kind: 'f32', w: w.tensor(`${name}.weight`, [c.hiddenSize, k]) },
  };
}

/** pixels [3, S, S] -> patch embeddings [(S / P)^2, C], patches in row-major order. */
export function patchEmbed(s: Scope, c: VisionConfig, pixels: Tensor, lin: Linear, label: string): Tensor {
  const side = c.imageSize / c.patchSize;
  const patches = s.empty([side * side, lin.k], `${label}.patches`);
  s.rt.run(im2col, [view(pixels, [1, c.numChannels, c.imageSize, c.imageSize])], [patches], {
    batch: 1,
    channels: c.numChannels,
    height: c.imageSize,
    width: c.imageSize,
    patch: c.patchSize,
  });
  return linear(s, patches, lin, `${label}.patch-embeds`);
}

export class VitEncoderLayers {
  /** The layers' weights (read by LoRA training on the tower's last layers). */
  readonly layers: EncoderLayerWeights[] = [];
  /** attention's mask slot is always bound; a vision tower never masks. */
  private readonly noMask: Tensor;

  constructor(
    w: Weights,
    private readonly config: VisionConfig,
    prefix: string,
    count: number,
    /** Prefix of the kernels' labels (vision, siglip). */
    private readonly label: string,
  ) {
    const h = config.hiddenSize;
    for (let i = 0; i < count; i++) {
      const p = `${prefix}.encoder.layers.${i}`;
      this.layers.push({
        ln1: [w.tensor(`${p}.layer_norm1.weight`, [h]), w.tensor(`${p}.layer_norm1.bias`, [h])],
        ln2: [w.tensor(`${p}.layer_norm2.weight`, [h]), w.tensor(`${p}.layer_norm2.bias`, [h])],
        q: w.linear(`${p}.self_attn.q_proj`, h, h, true),
        k: w.linear(`${p}.self_attn.k_proj`, h, h, true),
        v: w.linear(`${p}.self_attn.v_proj`, h, h, true),
        out: w.linear(`${p}.self_attn.out_proj`, h, h, true),
        fc1: w.linear(`${p}.mlp.fc1`, config.intermediateSize, h, true),
        fc2: w.linear(`${p}.mlp.fc2`, h, config.intermediateSize, true),
      });
    }
    this.noMask = w.constant(new Int32Array([1]), [1], `${label}.no-mask`);
  }

  /** Every layer in order (or layers [from, to)): [T, C] -> [T, C]. */
  forward(s: Scope, x: Tensor, from = 0, to = this.layers.length): Tensor {
    let h = x;
    for (let i = from; i < to; i++) h = this.layer(s, h, this.layers[i] as EncoderLayerWeights, `${this.label}.${i}`);
    return h;
  }

  private layer(s: Scope, x: Tensor, l: EncoderLayerWeights, label: string): Tensor {
    const c = this.config;
    const t = x.shape[0] as number;
    const heads = c.numHeads;
    const d = c.hiddenSize / heads;
    const h = layerNormOp(s, x, l.ln1[0], l.ln1[1], c.layerNormEps, `${label}.ln1`);
    const q = linear(s, h, l.q, `${label}.q`);
    const k = linear(s, h, l.k, `${label}.k`);
    const v = linear(s, h, l.v, `${label}.v`);
    const o = s.empty([t, c.hiddenSize], `${label}.attn`);
    // [T, C] seen as [1, T, H, D]
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
    const afterAttn = linear(s, o, l.out, `${label}.out`, { epilogue: 'residual', residual: x });
    const h2 = layerNormOp(s, afterAttn, l.ln2[0], l.ln2[1], c.layerNormEps, `${label}.ln2`);
    const mid = activationOp(s, linear(s, h2, l.fc1, `${label}.fc1`), activationFor(c.hiddenAct), `${label}.act`);
    return linear(s, mid, l.fc2, `${label}.fc2`, { epilogue: 'residual', residual: afterAttn });
  }
}
