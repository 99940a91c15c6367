/**
 * LoRA on a vision encoder's last layers (CLIP, SigLIP pre-norm blocks),
 * forward and backward. The hidden state entering the first wrapped layer is
 * frozen (the caller may keep it across sequences); from there every layer
 * runs with its adapters and keeps what the backward reads. The backward
 * takes d(hidden) of the last layer's output and walks back through the
 * wrapped layers (LayerNorm dX with frozen weights, the activation, full
 * attention, frozen matmul dX and the LoRA A/B gradients), stopping at the
 * input of the first wrapped layer.
 */
import { layerNormBackward } from '../../webgpu/kernels/layer-norm';
import { attention, type AttentionParams } from '../../webgpu/kernels/attention';
import { attentionBackwardKv, attentionBackwardQ } from '../../webgpu/kernels/attention-backward';
import { numel, view, type Tensor } from '../../webgpu/tensor';
import { loraLinear, type LoraRecord } from '../native/lora-linear';
import { activationOp, layerNormOp, type Scope } from '../native/ops';
import type { EncoderLayerWeights } from '../native/vit-encoder';
import type { Linear } from '../native/weights';
import { accumulateInputGrad, accumulateWeightGrad, activationGrad, add, gradInput, mul, scaled, type TransposedWeights } from './grad-ops';
import type { VisionLoraHost } from './host';
import { VISION_FIELD } from './names';
import type { TrainedParams, VisionLoraModule } from './params';
import type { VisionTarget } from './types';

/** Dropout mask of a wrapped vision linear's input (0 or 1 / (1 - p)), or null. */
export type VisionMasks = (layer: number, target: VisionTarget, rows: number, cols: number) => Tensor | null;

interface VisionLayerRecord {
  x: Tensor;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  afterAttn: Tensor;
  fc1: Tensor;
  lora: Map<VisionTarget, LoraRecord>;
}

export class VisionTrainer {
  constructor(
    private readonly host: VisionLoraHost,
    private readonly params: TrainedParams['vision'],
    private readonly scale: number,
    private readonly frozen: TransposedWeights,
  ) {}

  /** The first wrapped layer: everything before it is frozen. */
  get first(): number {
    return this.params[0]?.layer ?? this.host.layers.length;
  }

  private attentionParams(t: number): AttentionParams {
    const heads = this.host.heads;
    const width = (this.host.layers[0] as EncoderLayerWeights).q.n;
    return { batch: 1, tLen: t, sLen: t, heads, kvHeads: heads, headDim: width / heads, causal: false, hasMask: false };
  }

  private modules(i: number): Map<VisionTarget, VisionLoraModule> | undefined {
    return this.params.find((p) => p.layer === i)?.modules;
  }

  private proj(s: Scope, x: Tensor, l: EncoderLayerWeights, i: number, target: VisionTarget, masks: VisionMasks, rec: Map<VisionTarget, LoraRecord>, residual?: Tensor): Tensor {
    const lin = l[VISION_FIELD[target]];
    const mod = this.modules(i)?.get(target);
    const mask = mod ? masks(i, target, x.shape[0] as number, lin.k) : null;
    const pair = mod ? { a: mod.a.value, b: mod.b.value } : undefined;
    const { y, record } = loraLinear(s, x, lin, pair, this.scale, `train.vision.${i}.${target}`, { ...(residual ? { epilogue: 'residual', residual } : {}), mask });
    if (record) rec.set(target, record);
    return y;
  }

  /** Layers [first, end) from the frozen hidden state: the last layer's output and the records. */
  forward(s: Scope, hidden: Tensor, masks: VisionMasks, noMask: Tensor): { out: Tensor; records: VisionLayerRecord[] } {
    const records: VisionLayerRecord[] = [];
    let x = hidden;
    for (let i = this.first; i < this.host.layers.length; i++) {
      const l = this.host.layers[i] as EncoderLayerWeights;
      const t = x.shape[0] as number;
      const lora = new Map<VisionTarget, LoraRecord>();
      const h = layerNormOp(s, x, l.ln1[0], l.ln1[1], this.host.eps, `train.vision.${i}.ln1`);
      const q = this.proj(s, h, l, i, 'q_proj', masks, lora);
      const k = this.proj(s, h, l, i, 'k_proj', masks, lora);
      const v = this.proj(s, h, l, i, 'v_proj', masks, lora);
      const p = this.attentionParams(t);
      const shape = [1, t, p.heads, p.headDim];
      const o = s.empty([t, l.q.n], `train.vision.${i}.attn`);
      s.rt.run(attention, [view(q, shape), view(k, shape), view(v, shape), noMask], [view(o, shape)], p);
      const afterAttn = this.proj(s, o, l, i, 'out_proj', masks, lora, x);
      const h2 = layerNormOp(s, afterAttn, l.ln2[0], l.ln2[1], this.host.eps, `train.vision.${i}.ln2`);
      const fc1 = this.proj(s, h2, l, i, 'fc1', masks, lora);
      const act = activationOp(s, fc1, this.host.act, `train.vision.${i}.act`);
      const out = this.proj(s, act, l, i, 'fc2', masks, lora, afterAttn);
      records.push({ x, q, k, v, afterAttn, fc1, lora });
      x = out;
    }
    return { out: x, records };
  }

  /** dx of a wrapped (or plain) linear, adding its LoRA gradients. */
  private projBackward(s: Scope, dy: Tensor, lin: Linear, mod: VisionLoraModule | undefined, r: LoraRecord | undefined, label: string): Tensor {
    let dx = this.frozen.gradInput(s, dy, lin.weight.kind === 'f32' ? lin.weight.w : notF32(label), `${label}.dx`);
    if (mod && r) {
      accumulateWeightGrad(s, mod.b.grad, dy, r.zs);
      const dz = scaled(s, gradInput(s, dy, mod.b.value, `${label}.dzs`), this.scale, `${label}.dz`);
      accumulateWeightGrad(s, mod.a.grad, dz, r.u);
      if (r.mask) dx = add(s, dx, mul(s, gradInput(s, dz, mod.a.value, `${label}.du`), r.mask, `${label}.du-masked`), `${label}.dx-total`);
      else accumulateInputGrad(s, dx, dz, mod.a.value);
    }
    return dx;
  }

  private layerNormGrad(s: Scope, x: Tensor, weight: Tensor, dy: Tensor, label: string): Tensor {
    const cols = weight.shape[0] as number;
    const rows = numel(x.shape) / cols;
    const dx = s.empty([rows, cols], label);
    const stats = s.empty([rows, 2], `${label}.stats`);
    s.rt.run(layerNormBackward, [{ ...x, shape: [rows, cols] }, weight, { ...dy, shape: [rows, cols] }], [dx, stats], { rows, cols, eps: this.host.eps });
    return dx;
  }

  /** Adds the wrapped layers' LoRA gradients from d(last layer's output). */
  backward(s: Scope, dOut: Tensor, records: readonly VisionLayerRecord[], noMask: Tensor): void {
    let dy = dOut;
    for (let j = records.length - 1; j >= 0; j--) {
      const i = this.first + j;
      const l = this.host.layers[i] as EncoderLayerWeights;
      const rec = records[j] as VisionLayerRecord;
      const mods = this.modules(i);
      const back = (d: Tensor, target: VisionTarget) => this.projBackward(s, d, l[VISION_FIELD[target]], mods?.get(target), rec.lora.get(target), `train.vision.${i}.${target}`);
      const dAct = back(dy, 'fc2');
      const dFc1 = activationGrad(s, rec.fc1, dAct, this.host.act, `train.vision.${i}.dfc1`);
      const dH2 = back(dFc1, 'fc1');
      const dAfter = add(s, dy, this.layerNormGrad(s, rec.afterAttn, l.ln2[0], dH2, `train.vision.${i}.ln2.dx`), `train.vision.${i}.dafter`);
      const dO = back(dAfter, 'out_proj');
      const t = dO.shape[0] as number;
      const p = this.attentionParams(t);
      const shape = [1, t, p.heads, p.headDim];
      const dq = s.empty(shape, `train.vision.${i}.dq`);
      const stats = s.empty([1, t, p.heads, 2], `train.vision.${i}.attn-stats`);
      const q = view(rec.q, shape);
      const k = view(rec.k, shape);
      const v = view(rec.v, shape);
      s.rt.run(attentionBackwardQ, [q, k, v, noMask, view(dO, shape)], [dq, stats], p);
      const dk = s.empty(shape, `train.vision.${i}.dk`);
      const dv = s.empty(shape, `train.vision.${i}.dv`);
      s.rt.run(attentionBackwardKv, [q, k, v, noMask, view(dO, shape), stats], [dk, dv], p);
      if (j === 0) {
        // The first wrapped layer: q/k/v's LoRA gradients, no dx below it.
        for (const [target, d] of [['q_proj', dq], ['k_proj', dk], ['v_proj', dv]] as const) this.loraOnly(s, view(d, [t, l.q.n]), mods?.get(target), rec.lora.get(target), `train.vision.${i}.${target}`);
        return;
      }
      const dH = add(s, add(s, back(view(dq, [t, l.q.n]), 'q_proj'), back(view(dk, [t, l.q.n]), 'k_proj'), `train.vision.${i}.dh-qk`), back(view(dv, [t, l.q.n]), 'v_proj'), `train.vision.${i}.dh`);
      dy = add(s, dAfter, this.layerNormGrad(s, rec.x, l.ln1[0], dH, `train.vision.${i}.ln1.dx`), `train.vision.${i}.dx`);
    }
  }

  private loraOnly(s: Scope, dy: Tensor, mod: VisionLoraModule | undefined, r: LoraRecord | undefined, label: string): void {
    if (!mod || !r) return;
    accumulateWeightGrad(s, mod.b.grad, dy, r.zs);
    const dz = scaled(s, gradInput(s, dy, mod.b.value, `${label}.dzs`), this.scale, `${label}.dz`);
    accumulateWeightGrad(s, mod.a.grad, dz, r.u);
  }
}

function notF32(label: string): never {
  throw new Error(`training the vision tower needs f32 weights, but ${label} is not f32: load the model with f32 weights`);
}
