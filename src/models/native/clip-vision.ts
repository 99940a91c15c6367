/**
 * The CLIP vision tower (HF modeling_clip.py: CLIPVisionEmbeddings,
 * CLIPEncoderLayer, CLIPVisionTransformer) on our kernels. One image at a
 * time: [3, S, S] pixels -> hidden states [1 + N, C] of the requested layer.
 */
import { attention } from '../../webgpu/kernels/attention';
import { im2col } from '../../webgpu/kernels/im2col';
import { view, type Tensor } from '../../webgpu/tensor';
import type { VisionConfig } from '../config';
import { activationFor, activationOp, addOp, layerNormOp, linear, type Scope } from './ops';
import type { Linear, Weights } from './weights';

interface ClipLayerWeights {
  ln1: [Tensor, Tensor];
  ln2: [Tensor, Tensor];
  q: Linear;
  k: Linear;
  v: Linear;
  out: Linear;
  fc1: Linear;
  fc2: Linear;
}

export class ClipVisionTower {
  private readonly patchWeight: Tensor;
  private readonly classEmbedding: Tensor;
  private readonly positions: Tensor;
  private readonly preNorm: [Tensor, Tensor];
  private readonly layers: ClipLayerWeights[];
  private readonly noMask: Tensor;
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
    const patchLen = c.numChannels * c.patchSize * c.patchSize;
    // Conv2d weight [C, Cin, P, P] flattens to [C, Cin*P*P], matching im2col's column order.
    this.patchWeight = w.tensor(`${prefix}.embeddings.patch_embedding.weight`, [c.hiddenSize, patchLen]);
    this.classEmbedding = w.tensor(`${prefix}.embeddings.class_embedding`, [c.hiddenSize]);
    this.positions = w.tensor(`${prefix}.embeddings.position_embedding.weight`, [this.numPatches + 1, c.hiddenSize]);
    this.preNorm = [w.tensor(`${prefix}.pre_layrnorm.weight`, [c.hiddenSize]), w.tensor(`${prefix}.pre_layrnorm.bias`, [c.hiddenSize])];
    this.layers = [];
    for (let i = 0; i < layersNeeded; i++) {
      const p = `${prefix}.encoder.layers.${i}`;
      const h = c.hiddenSize;
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
    // attention's mask slot is always bound; the vision tower never masks.
    this.noMask = w.constant(new Int32Array([1]), [1], 'vision.no-mask');
  }

  /** Embeddings: [class; patches] + positions, then pre_layrnorm. pixels [3, S, S] -> [1 + N, C]. */
  private embed(s: Scope, pixels: Tensor): Tensor {
    const c = this.config;
    const n = this.numPatches;
    const patchLen = c.numChannels * c.patchSize * c.patchSize;
    const patches = s.empty([n, patchLen], 'vision.patches');
    s.rt.run(im2col, [view(pixels, [1, c.numChannels, c.imageSize, c.imageSize])], [patches], {
      batch: 1,
      channels: c.numChannels,
      height: c.imageSize,
      width: c.imageSize,
      patch: c.patchSize,
    });
    const tokens = s.empty([n + 1, c.hiddenSize], 'vision.tokens');
    s.rt.copy(this.classEmbedding, 0, tokens, 0, c.hiddenSize);
    const patchLinear: Linear = { n: c.hiddenSize, k: patchLen, bias: null, weight: { kind: 'f32', w: this.patchWeight } };
    const embedded = linear(s, patches, patchLinear, 'vision.patch-embeds');
    s.rt.copy(embedded, 0, tokens, c.hiddenSize, n * c.hiddenSize);
    const withPos = addOp(s, tokens, this.positions, 'vision.embeddings');
    return layerNormOp(s, withPos, this.preNorm[0], this.preNorm[1], c.layerNormEps, 'vision.pre-norm');
  }

  private layer(s: Scope, x: Tensor, l: ClipLayerWeights, i: number): Tensor {
    const c = this.config;
    const t = x.shape[0] as number;
    const heads = c.numHeads;
    const d = c.hiddenSize / heads;
    const h = layerNormOp(s, x, l.ln1[0], l.ln1[1], c.layerNormEps, `vision.${i}.ln1`);
    const q = linear(s, h, l.q, `vision.${i}.q`);
    const k = linear(s, h, l.k, `vision.${i}.k`);
    const v = linear(s, h, l.v, `vision.${i}.v`);
    const o = s.empty([t, c.hiddenSize], `vision.${i}.attn`);
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
    const afterAttn = linear(s, o, l.out, `vision.${i}.out`, { epilogue: 'residual', residual: x });
    const h2 = layerNormOp(s, afterAttn, l.ln2[0], l.ln2[1], c.layerNormEps, `vision.${i}.ln2`);
    const mid = activationOp(s, linear(s, h2, l.fc1, `vision.${i}.fc1`), activationFor(c.hiddenAct), `vision.${i}.act`);
    return linear(s, mid, l.fc2, `vision.${i}.fc2`, { epilogue: 'residual', residual: afterAttn });
  }

  /** Hidden state after the constructor's number of layers: [1 + N, C] (row 0 is the class token). */
  forward(s: Scope, pixels: Tensor): Tensor {
    let x = this.embed(s, pixels);
    this.layers.forEach((l, i) => {
      x = this.layer(s, x, l, i);
    });
    return x;
  }
}
