/**
 * One training sequence through the decoder with LoRA, forward and backward.
 * No KV cache: full causal attention over the sequence's T tokens (one
 * unpadded sequence, so HF's attention_mask is all ones). The forward keeps
 * what the backward reads; the LM head runs only on the supervised rows
 * (label != -100 after the shift). Everything is recorded into one step.
 */
import { attention } from '../../webgpu/kernels/attention';
import { attentionBackwardKv, attentionBackwardQ } from '../../webgpu/kernels/attention-backward';
import { crossEntropy, crossEntropyBackward, IGNORE_INDEX } from '../../webgpu/kernels/cross-entropy';
import { rope, ropeBackward } from '../../webgpu/kernels/rope';
import { view, type Tensor } from '../../webgpu/tensor';
import { TARGET_FIELD, type DecoderLayerWeights } from '../native/llama-decoder';
import { asLinear, loraLinear, type LoraRecord } from '../native/lora-linear';
import { activationOp, linear, rmsNormOp, swigluOp, type Scope } from '../native/ops';
import type { Linear } from '../native/weights';
import {
  accumulateBiasGrad,
  accumulateInputGrad,
  accumulateWeightGrad,
  activationGrad,
  add,
  f32Weight,
  gradInput,
  mul,
  rmsNormGrad,
  scaled,
  swigluGrad,
  type TransposedWeights,
} from './grad-ops';
import type { LoraHost } from './host';
import type { LoraModule, TrainedParams } from './params';
import type { TokenRows } from './tokens';
import type { LoraTarget } from './types';
import type { VisionMasks, VisionTrainer } from './vision';

/** Dropout masks of the LoRA inputs (0 or 1 / (1 - p)), by layer and target; absent: no dropout. */
export type DropoutMasks = (layer: number, target: LoraTarget, rows: number, cols: number) => Tensor | null;

/** Decoder and vision dropout masks. */
export interface SequenceMasks {
  decoder: DropoutMasks;
  vision: VisionMasks;
}

interface LayerRecord {
  x: Tensor;
  h: Tensor;
  qr: Tensor;
  kr: Tensor;
  v: Tensor;
  attn: Tensor;
  afterAttn: Tensor;
  h2: Tensor;
  gate: Tensor;
  up: Tensor;
  act: Tensor;
  lora: Map<LoraTarget, LoraRecord>;
}

interface ProjectorRecord {
  /** Input of each projector linear, and the pre-activation output of each but the last. */
  inputs: Tensor[];
  preActs: Tensor[];
  /** With vision LoRA: the wrapped layers' records and the last layer's output rows. */
  vision?: { records: ReturnType<VisionTrainer['forward']>['records']; rows: number };
}

export interface SequenceRun {
  /** Per-token losses of the supervised rows [n] (read after submit). */
  losses: Tensor | null;
  tokens: number;
}

export interface SequenceInput {
  ids: Int32Array;
  labels: Int32Array;
  pixels: readonly Float32Array[];
}

/** Rows p whose next label is supervised, and those labels. */
export function supervisedRows(labels: Int32Array): { rows: number[]; targets: Int32Array } {
  const rows: number[] = [];
  for (let p = 0; p + 1 < labels.length; p++) if (labels[p + 1] !== IGNORE_INDEX) rows.push(p);
  return { rows, targets: Int32Array.from(rows, (p) => labels[p + 1] as number) };
}

/** Contiguous runs of sorted positions, as [start, length, index of start in positions]. */
function runs(positions: readonly number[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  positions.forEach((p, i) => {
    const last = out[out.length - 1];
    if (last && last[0] + last[1] === p) last[1]++;
    else out.push([p, 1, i]);
  });
  return out;
}

export class SequenceTrainer {
  constructor(
    private readonly host: LoraHost,
    private readonly params: TrainedParams,
    private readonly scale: number,
    /** Frozen weights' transposes for dX (kept by the owner across sequences). */
    private readonly frozen: TransposedWeights,
    /** The vision tower's wrapped layers, when trained. */
    private readonly vision: VisionTrainer | null = null,
    /** Trained token rows, when any. */
    private readonly tokens: TokenRows | null = null,
  ) {}

  private get trainsProjector(): boolean {
    return this.params.projector.length > 0;
  }

  /** The image step has trained parts (the projector's input, or further back, needs gradients). */
  private get recordsImages(): boolean {
    return this.trainsProjector || this.vision !== null;
  }

  /** The projector's linear layers the forward runs: the trained ones, else the model's. */
  private get projectorLinears(): Linear[] {
    if (this.trainsProjector) return this.params.projector.map((p) => ({ ...asLinear(p.weight.value), bias: p.bias?.value ?? null }));
    return this.host.projector.map((p) => p.lin);
  }

  /**
   * Records the forward (and with `gradScale`, the backward adding
   * gradScale * d(loss sum)/d(param) into the gradient buffers) into the
   * current step. The caller submits and reads `losses`.
   */
  record(s: Scope, input: SequenceInput, allMasks: SequenceMasks, gradScale: number | null, features: (s: Scope, px: Float32Array, i: number) => Tensor): SequenceRun {
    const masks = allMasks.decoder;
    const { ids, labels } = input;
    const t = ids.length;
    const dec = this.host.decoder;
    const d = dec.config.hiddenSize;
    const { rows, targets } = supervisedRows(labels);
    const projRecords: ProjectorRecord[] = [];
    const noMask = s.upload(new Int32Array([1]), [1], 'train.no-mask');
    const imageFeats = input.pixels.map((px, i) => {
      const frozen = features(s, px, i);
      if (!this.vision) return this.recordsImages ? this.projectRecorded(s, frozen, projRecords) : frozen;
      const { out, records } = this.vision.forward(s, frozen, allMasks.vision, noMask);
      const { start, count } = this.host.vision?.featureRows ?? { start: 0, count: 0 };
      const width = out.shape[1] as number;
      const feats = s.empty([count, width], `train.image.${i}.features`);
      s.rt.copy(out, start * width, feats, 0, count * width);
      return this.projectRecorded(s, feats, projRecords, { records, rows: out.shape[0] as number });
    });
    let x = this.embed(s, ids, imageFeats);
    const positions = s.upload(Int32Array.from({ length: t }, (_, j) => j), [1, t], 'train.positions');
    const records: LayerRecord[] = [];
    dec.layers.forEach((l, i) => {
      const rec = this.layerForward(s, x, l, i, positions, noMask, masks);
      records.push(rec);
      x = rec.out;
    });
    if (rows.length === 0) return { losses: null, tokens: 0 };
    const n = rows.length;
    const xs = s.empty([n, d], 'train.head-rows');
    for (const [start, len, at] of runs(rows)) s.rt.copy(x, start * d, xs, at * d, len * d);
    const eps = dec.config.rmsNormEps;
    const normed = rmsNormOp(s, xs, dec.norm, eps, 'train.norm');
    const head = this.tokens?.head ?? dec.lmHead;
    const logits = linear(s, normed, head, 'train.logits');
    const vocab = dec.lmHead.n;
    const targetT = s.upload(targets, [n], 'train.targets');
    const losses = s.empty([n], 'train.losses');
    s.rt.run(crossEntropy, [logits, targetT], [losses], { rows: n, vocab });
    if (gradScale === null) return { losses, tokens: n };

    const dlogits = s.empty([n, vocab], 'train.dlogits');
    s.rt.run(crossEntropyBackward, [logits, targetT], [dlogits], { rows: n, vocab, scale: gradScale });
    // Through the base head (its transpose kept); trained rows add their difference from the base rows.
    const dnormed = this.frozen.gradInput(s, dlogits, f32Weight(dec.lmHead, 'the LM head'), 'train.dnormed');
    this.tokens?.headBackward(s, dlogits, normed);
    this.tokens?.headInputCorrection(s, dnormed);
    const dxs = rmsNormGrad(s, xs, dec.norm, dnormed, eps, 'train.dhead-rows');
    let dx = s.upload(new Float32Array(t * d), [t, d], 'train.dx');
    for (const [start, len, at] of runs(rows)) s.rt.copy(dxs, at * d, dx, start * d, len * d);
    for (let i = records.length - 1; i >= 0; i--) {
      const needInput = i > 0 || this.recordsImages || this.tokens !== null;
      dx = this.layerBackward(s, dx, dec.layers[i] as DecoderLayerWeights, i, records[i] as LayerRecord & { out: Tensor }, positions, noMask, needInput);
    }
    this.tokens?.embedBackward(s, ids, dx);
    if (this.recordsImages) this.projectorBackward(s, ids, dx, projRecords, noMask);
    return { losses, tokens: n };
  }

  private embed(s: Scope, ids: Int32Array, feats: readonly Tensor[]): Tensor {
    const d = this.host.decoder.config.hiddenSize;
    const idsT = s.upload(ids, [ids.length], 'train.ids');
    this.tokens?.refresh();
    const embeds = this.tokens ? this.tokens.embed(s, idsT) : this.host.decoder.embed(s, idsT);
    this.imageRuns(ids, feats.length).forEach((imageRuns, img) => {
      for (const [start, len, row] of imageRuns) s.rt.copy(feats[img] as Tensor, row * d, embeds, start * d, len * d);
    });
    return embeds;
  }

  /** Per image, the runs of its image-token positions (the i-th imageSeqLength image tokens belong to image i). */
  private imageRuns(ids: Int32Array, images: number): [number, number, number][][] {
    const n = this.host.imageSeqLength;
    const positions: number[] = [];
    ids.forEach((id, i) => {
      if (id === this.host.imageTokenId) positions.push(i);
    });
    if (positions.length !== images * n) throw new Error(`the sequence has ${positions.length} image tokens but ${images} image(s) need ${images * n}`);
    return Array.from({ length: images }, (_, img) => runs(positions.slice(img * n, (img + 1) * n)));
  }

  private projectRecorded(s: Scope, frozen: Tensor, out: ProjectorRecord[], vision?: ProjectorRecord['vision']): Tensor {
    const rec: ProjectorRecord = { inputs: [], preActs: [], ...(vision ? { vision } : {}) };
    let x = frozen;
    const lins = this.projectorLinears;
    lins.forEach((lin, i) => {
      rec.inputs.push(x);
      const y = linear(s, x, lin, `train.projector.${i}`);
      if (i < lins.length - 1) {
        rec.preActs.push(y);
        x = activationOp(s, y, this.host.projectorAct, `train.projector.${i}.act`);
      } else x = y;
    });
    out.push(rec);
    return x;
  }

  /** The projector's gradients (when trained), and with vision LoRA, back through the projector into the tower. */
  private projectorBackward(s: Scope, ids: Int32Array, dEmbeds: Tensor, recs: readonly ProjectorRecord[], noMask: Tensor): void {
    const d = this.host.decoder.config.hiddenSize;
    const n = this.host.imageSeqLength;
    const lins = this.projectorLinears;
    this.imageRuns(ids, recs.length).forEach((imageRuns, img) => {
      const rec = recs[img] as ProjectorRecord;
      let dy = s.empty([n, d], `train.dfeatures.${img}`);
      for (const [start, len, row] of imageRuns) s.rt.copy(dEmbeds, start * d, dy, row * d, len * d);
      for (let i = lins.length - 1; i >= 0; i--) {
        const p = this.params.projector[i];
        if (p) {
          accumulateWeightGrad(s, p.weight.grad, dy, rec.inputs[i] as Tensor);
          if (p.bias) accumulateBiasGrad(s, p.bias.grad, dy);
        }
        if (i === 0 && !rec.vision) return;
        const dIn = p ? gradInput(s, dy, p.weight.value, `train.projector.${i}.dx`) : this.frozen.gradInput(s, dy, f32Weight(lins[i] as Linear, `projector linear ${i}`), `train.projector.${i}.dx`);
        dy = i > 0 ? activationGrad(s, rec.preActs[i - 1] as Tensor, dIn, this.host.projectorAct, `train.projector.${i - 1}.dy`) : dIn;
      }
      if (!rec.vision || !this.vision) return;
      // dy is d(features) [count, width]: placed at the feature rows of the last layer's output, zero elsewhere.
      const { start, count } = this.host.vision?.featureRows ?? { start: 0, count: 0 };
      const width = dy.shape[1] as number;
      const dHidden = s.upload(new Float32Array(rec.vision.rows * width), [rec.vision.rows, width], `train.vision.dout.${img}`);
      s.rt.copy(dy, 0, dHidden, start * width, count * width);
      this.vision.backward(s, dHidden, rec.vision.records, noMask);
    });
  }

  private proj(s: Scope, x: Tensor, l: DecoderLayerWeights, i: number, target: LoraTarget, masks: DropoutMasks, rec: Map<LoraTarget, LoraRecord>, residual?: Tensor): Tensor {
    const lin = l[TARGET_FIELD[target]];
    const mod = this.params.byLayer[i]?.get(target);
    const label = `train.${i}.${TARGET_FIELD[target]}`;
    const rows = x.shape[0] as number;
    const mask = mod ? masks(i, target, rows, lin.k) : null;
    const pair = mod ? { a: mod.a.value, b: mod.b.value } : undefined;
    const { y, record } = loraLinear(s, x, lin, pair, this.scale, label, { ...(residual ? { epilogue: 'residual', residual } : {}), mask });
    if (record) rec.set(target, record);
    return y;
  }

  private layerForward(s: Scope, x: Tensor, l: DecoderLayerWeights, i: number, positions: Tensor, noMask: Tensor, masks: DropoutMasks): LayerRecord & { out: Tensor } {
    const c = this.host.decoder.config;
    const t = x.shape[0] as number;
    const lora = new Map<LoraTarget, LoraRecord>();
    const h = rmsNormOp(s, x, l.inputNorm, c.rmsNormEps, `train.${i}.input-norm`);
    const q = this.proj(s, h, l, i, 'q_proj', masks, lora);
    const k = this.proj(s, h, l, i, 'k_proj', masks, lora);
    const v = this.proj(s, h, l, i, 'v_proj', masks, lora);
    const qShape = [1, t, c.numHeads, c.headDim];
    const kShape = [1, t, c.numKvHeads, c.headDim];
    const qr = s.empty(qShape, `train.${i}.q-rope`);
    const kr = s.empty(kShape, `train.${i}.k-rope`);
    const ropeParams = { batch: 1, seq: t, headDim: c.headDim, theta: c.ropeTheta };
    s.rt.run(rope, [view(q, qShape), positions], [qr], { ...ropeParams, heads: c.numHeads });
    s.rt.run(rope, [view(k, kShape), positions], [kr], { ...ropeParams, heads: c.numKvHeads });
    const vv = view(v, kShape);
    const attn = s.empty(qShape, `train.${i}.attn`);
    s.rt.run(attention, [qr, kr, vv, noMask], [attn], this.attentionParams(t));
    const afterAttn = this.proj(s, view(attn, [t, c.numHeads * c.headDim]), l, i, 'o_proj', masks, lora, x);
    const h2 = rmsNormOp(s, afterAttn, l.postNorm, c.rmsNormEps, `train.${i}.post-norm`);
    const gate = this.proj(s, h2, l, i, 'gate_proj', masks, lora);
    const up = this.proj(s, h2, l, i, 'up_proj', masks, lora);
    const act = swigluOp(s, gate, up, `train.${i}.swiglu`);
    const out = this.proj(s, act, l, i, 'down_proj', masks, lora, afterAttn);
    return { x, h, qr, kr, v: vv, attn, afterAttn, h2, gate, up, act, lora, out };
  }

  private attentionParams(t: number) {
    const c = this.host.decoder.config;
    return { batch: 1, tLen: t, sLen: t, heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim, causal: true, hasMask: false };
  }

  /** dx of y = linear(x) + LoRA, adding the LoRA gradients; null when dx is not wanted. */
  private projBackward(s: Scope, dy: Tensor, l: DecoderLayerWeights, i: number, target: LoraTarget, rec: LayerRecord, needInput: boolean): Tensor | null {
    const lin = l[TARGET_FIELD[target]];
    const mod: LoraModule | undefined = this.params.byLayer[i]?.get(target);
    const r = rec.lora.get(target);
    const label = `train.${i}.${TARGET_FIELD[target]}`;
    let dx = needInput ? this.frozen.gradInput(s, dy, f32Weight(lin, label), `${label}.dx`) : null;
    if (mod && r) {
      accumulateWeightGrad(s, mod.b.grad, dy, r.zs);
      const dz = scaled(s, gradInput(s, dy, mod.b.value, `${label}.dzs`), this.scale, `${label}.dz`);
      accumulateWeightGrad(s, mod.a.grad, dz, r.u);
      if (dx && r.mask) dx = add(s, dx, mul(s, gradInput(s, dz, mod.a.value, `${label}.du`), r.mask, `${label}.du-masked`), `${label}.dx-total`);
      else if (dx) accumulateInputGrad(s, dx, dz, mod.a.value);
    }
    return dx;
  }

  private layerBackward(s: Scope, dOut: Tensor, l: DecoderLayerWeights, i: number, rec: LayerRecord, positions: Tensor, noMask: Tensor, needInput: boolean): Tensor {
    const c = this.host.decoder.config;
    const t = dOut.shape[0] as number;
    const eps = c.rmsNormEps;
    const dAct = this.projBackward(s, dOut, l, i, 'down_proj', rec, true) as Tensor;
    const [dGate, dUp] = swigluGrad(s, rec.gate, rec.up, dAct, `train.${i}.swiglu`);
    const dH2 = add(s, this.projBackward(s, dGate, l, i, 'gate_proj', rec, true) as Tensor, this.projBackward(s, dUp, l, i, 'up_proj', rec, true) as Tensor, `train.${i}.dh2`);
    const dAfter = add(s, dOut, rmsNormGrad(s, rec.afterAttn, l.postNorm, dH2, eps, `train.${i}.post-norm.dx`), `train.${i}.dafter`);
    const dAttn = this.projBackward(s, dAfter, l, i, 'o_proj', rec, true) as Tensor;
    const qShape = [1, t, c.numHeads, c.headDim];
    const kShape = [1, t, c.numKvHeads, c.headDim];
    const dOutHeads = view(dAttn, qShape);
    const dqr = s.empty(qShape, `train.${i}.dq-rope`);
    const stats = s.empty([1, t, c.numHeads, 2], `train.${i}.attn-stats`);
    const p = this.attentionParams(t);
    s.rt.run(attentionBackwardQ, [rec.qr, rec.kr, rec.v, noMask, dOutHeads], [dqr, stats], p);
    const dkr = s.empty(kShape, `train.${i}.dk-rope`);
    const dv = s.empty(kShape, `train.${i}.dv`);
    s.rt.run(attentionBackwardKv, [rec.qr, rec.kr, rec.v, noMask, dOutHeads, stats], [dkr, dv], p);
    const ropeParams = { batch: 1, seq: t, headDim: c.headDim, theta: c.ropeTheta };
    const dq = s.empty(qShape, `train.${i}.dq`);
    const dk = s.empty(kShape, `train.${i}.dk`);
    s.rt.run(ropeBackward, [dqr, positions], [dq], { ...ropeParams, heads: c.numHeads });
    s.rt.run(ropeBackward, [dkr, positions], [dk], { ...ropeParams, heads: c.numKvHeads });
    const dhq = this.projBackward(s, view(dq, [t, c.numHeads * c.headDim]), l, i, 'q_proj', rec, needInput);
    const dhk = this.projBackward(s, view(dk, [t, c.numKvHeads * c.headDim]), l, i, 'k_proj', rec, needInput);
    const dhv = this.projBackward(s, view(dv, [t, c.numKvHeads * c.headDim]), l, i, 'v_proj', rec, needInput);
    if (!needInput || !dhq || !dhk || !dhv) return dAfter;
    const dH = add(s, add(s, dhq, dhk, `train.${i}.dh-qk`), dhv, `train.${i}.dh`);
    return add(s, dAfter, rmsNormGrad(s, rec.x, l.inputNorm, dH, eps, `train.${i}.input-norm.dx`), `train.${i}.dx`);
  }
}
