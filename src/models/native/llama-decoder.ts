/**
 * The Llama decoder (HF modeling_llama.py: LlamaDecoderLayer, LlamaModel,
 * LlamaForCausalLM) on our kernels, with keys and values kept in a GPU KV
 * cache between steps. A step takes T new embeddings [T, D] at positions
 * cache.length .. cache.length + T - 1 and returns the logits of the last one.
 */
import { attention } from '../../webgpu/kernels/attention';
import { embedding } from '../../webgpu/kernels/embedding';
import { rope } from '../../webgpu/kernels/rope';
import { KvCache } from '../../webgpu/kv-cache';
import type { GpuRuntime } from '../../webgpu/runtime';
import { view, type Tensor } from '../../webgpu/tensor';
import type { TextConfig } from '../config';
import { throwIfStopped } from '../engine';
import type { LoraTarget } from '../lora/types';
import { loraLinear, type DecoderLora } from './lora-linear';
import { linear, rmsNormOp, Scope, swigluOp } from './ops';
import type { Linear, Weights } from './weights';

export interface DecoderLayerWeights {
  inputNorm: Tensor;
  postNorm: Tensor;
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
  gate: Linear;
  up: Linear;
  down: Linear;
}

/** The linear layer a PEFT target name wraps. */
export const TARGET_FIELD: Record<LoraTarget, 'q' | 'k' | 'v' | 'o' | 'gate' | 'up' | 'down'> = {
  q_proj: 'q',
  k_proj: 'k',
  v_proj: 'v',
  o_proj: 'o',
  gate_proj: 'gate',
  up_proj: 'up',
  down_proj: 'down',
};

export class LlamaDecoder {
  readonly embedTokens: Tensor;
  readonly layers: DecoderLayerWeights[] = [];
  readonly norm: Tensor;
  readonly lmHead: Linear;
  private readonly noMask: Tensor;
  /** An attached adapter, applied unmerged in every step (null: the base model). */
  lora: DecoderLora | null = null;
  /** HF path of the LlamaModel (language_model.model, model.text_model): where PEFT names its layers. */
  readonly modelPath: string;

  constructor(
    w: Weights,
    readonly config: TextConfig,
    readonly prefix = 'language_model',
    /** Where LlamaModel and lm_head sit when they are not under `prefix` (Idefics3: model.text_model, lm_head). */
    paths: { model?: string; lmHead?: string } = {},
  ) {
    const c = config;
    const d = c.hiddenSize;
    const model = paths.model ?? `${prefix}.model`;
    this.modelPath = model;
    const lmHead = paths.lmHead ?? `${prefix}.lm_head`;
    this.embedTokens = w.tensor(`${model}.embed_tokens.weight`, [c.vocabSize, d]);
    for (let i = 0; i < c.numLayers; i++) {
      const p = `${model}.layers.${i}`;
      this.layers.push({
        inputNorm: w.tensor(`${p}.input_layernorm.weight`, [d]),
        postNorm: w.tensor(`${p}.post_attention_layernorm.weight`, [d]),
        q: w.linear(`${p}.self_attn.q_proj`, c.numHeads * c.headDim, d, c.attentionBias),
        k: w.linear(`${p}.self_attn.k_proj`, c.numKvHeads * c.headDim, d, c.attentionBias),
        v: w.linear(`${p}.self_attn.v_proj`, c.numKvHeads * c.headDim, d, c.attentionBias),
        o: w.linear(`${p}.self_attn.o_proj`, d, c.numHeads * c.headDim, c.attentionBias),
        gate: w.linear(`${p}.mlp.gate_proj`, c.intermediateSize, d, c.mlpBias),
        up: w.linear(`${p}.mlp.up_proj`, c.intermediateSize, d, c.mlpBias),
        down: w.linear(`${p}.mlp.down_proj`, d, c.intermediateSize, c.mlpBias),
      });
    }
    this.norm = w.tensor(`${model}.norm.weight`, [d]);
    const headName = c.tieWordEmbeddings || !w.has(`${lmHead}.weight`) ? null : lmHead;
    this.lmHead = headName ? w.linear(headName, c.vocabSize, d, false) : { n: c.vocabSize, k: d, bias: null, weight: { kind: 'f32', w: this.embedTokens } };
    this.noMask = w.constant(new Int32Array([1]), [1], 'decoder.no-mask');
  }

  newCache(rt: GpuRuntime, capacity: number): KvCache {
    const c = this.config;
    return new KvCache(rt, { layers: c.numLayers, batch: 1, capacity, kvHeads: c.numKvHeads, headDim: c.headDim }, 'decoder.kv');
  }

  /** Token embeddings [T, D] for ids (i32 [T]). */
  embed(s: Scope, ids: Tensor): Tensor {
    const t = ids.shape[0] as number;
    const out = s.empty([t, this.config.hiddenSize], 'decoder.embeds');
    s.rt.run(embedding, [ids, this.embedTokens], [out], { rows: t, vocab: this.config.vocabSize, channels: this.config.hiddenSize });
    return out;
  }

  private layer(s: Scope, x: Tensor, l: DecoderLayerWeights, i: number, cache: KvCache, positions: Tensor): Tensor {
    const c = this.config;
    const t = x.shape[0] as number;
    const lora = this.lora?.layers[i];
    const scale = this.lora?.scale ?? 0;
    const proj = (input: Tensor, target: LoraTarget, opts: { residual?: Tensor } = {}): Tensor => {
      const lin = l[TARGET_FIELD[target]];
      const label = `decoder.${i}.${TARGET_FIELD[target]}`;
      const o = opts.residual ? { epilogue: 'residual' as const, residual: opts.residual } : {};
      return lora ? loraLinear(s, input, lin, lora[target], scale, label, o).y : linear(s, input, lin, label, o);
    };
    const h = rmsNormOp(s, x, l.inputNorm, c.rmsNormEps, `decoder.${i}.input-norm`);
    const q = proj(h, 'q_proj');
    const k = proj(h, 'k_proj');
    const v = proj(h, 'v_proj');
    const qShape = [1, t, c.numHeads, c.headDim];
    const kShape = [1, t, c.numKvHeads, c.headDim];
    const qr = s.empty(qShape, `decoder.${i}.q-rope`);
    const kr = s.empty(kShape, `decoder.${i}.k-rope`);
    const ropeParams = { batch: 1, seq: t, headDim: c.headDim, theta: c.ropeTheta };
    s.rt.run(rope, [view(q, qShape), positions], [qr], { ...ropeParams, heads: c.numHeads });
    s.rt.run(rope, [view(k, kShape), positions], [kr], { ...ropeParams, heads: c.numKvHeads });
    cache.append(i, kr, view(v, kShape), t);
    const o = s.empty(qShape, `decoder.${i}.attn`);
    const keys = cache.keys[i] as Tensor;
    const values = cache.values[i] as Tensor;
    s.rt.run(attention, [qr, keys, values, this.noMask], [o], {
      batch: 1,
      tLen: t,
      sLen: cache.length + t,
      sCap: cache.shape.capacity,
      qOffset: cache.length,
      heads: c.numHeads,
      kvHeads: c.numKvHeads,
      headDim: c.headDim,
      causal: true,
      hasMask: false,
    });
    const afterAttn = proj(o, 'o_proj', { residual: x });
    const h2 = rmsNormOp(s, afterAttn, l.postNorm, c.rmsNormEps, `decoder.${i}.post-norm`);
    const act = swigluOp(s, proj(h2, 'gate_proj'), proj(h2, 'up_proj'), `decoder.${i}.swiglu`);
    return proj(act, 'down_proj', { residual: afterAttn });
  }

  /**
   * Run T new embeddings through every layer, appending to the cache, and
   * return the logits of the last position [1, V]. The caller submits.
   */
  step(s: Scope, embeds: Tensor, cache: KvCache): Tensor {
    const positions = this.positions(s, embeds, cache);
    let x = embeds;
    this.layers.forEach((l, i) => {
      x = this.layer(s, x, l, i, cache, positions);
    });
    return this.head(s, x, cache);
  }

  /**
   * step() for a prompt: each layer is recorded in its own scope and
   * submitted, and its temporaries go back to the pool once the next layer
   * has read its output, so a long prompt holds one layer's activations at a
   * time, not every layer's. With a signal each layer is also finished
   * before the next is recorded, and an aborted signal ends it there
   * (PrefillCancelled); the cache does not advance, so the positions written
   * are overwritten by the next prompt.
   */
  async stepInChunks(s: Scope, embeds: Tensor, cache: KvCache, signal?: AbortSignal): Promise<Tensor> {
    const positions = this.positions(s, embeds, cache);
    let x = embeds;
    let prev: Scope | null = null;
    try {
      for (const [i, l] of this.layers.entries()) {
        throwIfStopped(signal);
        const layer = new Scope(s.rt);
        x = this.layer(layer, x, l, i, cache, positions);
        s.rt.submit();
        layer.release([x]);
        prev?.release();
        prev = layer;
        if (signal) await s.rt.device.queue.onSubmittedWorkDone();
      }
      throwIfStopped(signal);
      return this.head(s, x, cache);
    } finally {
      // Released after the head is recorded: the buffer returns to the pool once that step is submitted.
      prev?.release();
    }
  }

  private positions(s: Scope, embeds: Tensor, cache: KvCache): Tensor {
    const t = embeds.shape[0] as number;
    return s.upload(Int32Array.from({ length: t }, (_, j) => cache.length + j), [1, t], 'decoder.positions');
  }

  /** The cache advances past the new positions; the last one's hidden state is normed and projected to logits. */
  private head(s: Scope, x: Tensor, cache: KvCache): Tensor {
    const t = x.shape[0] as number;
    cache.advance(t);
    const d = this.config.hiddenSize;
    const last = s.empty([1, d], 'decoder.last');
    s.rt.copy(x, (t - 1) * d, last, 0, d);
    const normed = rmsNormOp(s, last, this.norm, this.config.rmsNormEps, 'decoder.norm');
    return linear(s, normed, this.lmHead, 'decoder.logits');
  }
}
