/**
 * Trained token rows (PEFT's TrainableTokensLayer on embed_tokens and
 * lm_head): the trained rows replace the base rows. The forward reads full
 * tables kept on the GPU with the current rows copied in before every
 * sequence; the backward adds
 *   embed rows:   d rows[j] += sum of dEmbeds[p] over positions p whose id is ids[j]
 *   lm_head rows: d rows[j] += dlogits[:, ids[j]]^T h
 * both as matmul-grad products with one-hot matrices made on the host.
 */
import { embedding } from '../../webgpu/kernels/embedding';
import type { GpuRuntime } from '../../webgpu/runtime';
import { numel, type Tensor } from '../../webgpu/tensor';
import type { LlamaDecoder } from '../native/llama-decoder';
import { asLinear } from '../native/lora-linear';
import { linear, type Scope } from '../native/ops';
import type { Linear } from '../native/weights';
import { accumulateInputGrad, accumulateWeightGrad, add, scaled } from './grad-ops';
import type { TokenParams } from './params';

export class TokenRows {
  private readonly embedTable: Tensor;
  private readonly headTable: Tensor;
  /** One-hot [ids, V]: dlogits [n, V] through it gives dlogits[:, ids]. */
  private readonly pick: Tensor;
  /** The base model's lm_head rows of the ids [ids, D]. */
  private readonly baseHeadRows: Tensor;
  /** dlogits[:, ids] of the sequence being recorded (set by headBackward). */
  private picked: Tensor | null = null;

  constructor(
    private readonly rt: GpuRuntime,
    private readonly decoder: LlamaDecoder,
    private readonly params: TokenParams,
  ) {
    const [vocab, width] = decoder.embedTokens.shape as [number, number];
    this.embedTable = rt.empty([vocab, width], 'f32', 'train.tokens.embed-table');
    rt.copy(decoder.embedTokens, 0, this.embedTable, 0, vocab * width);
    const head = decoder.lmHead.weight;
    if (head.kind !== 'f32') throw new Error('training token rows needs an f32 lm_head');
    if (params.tied) this.headTable = this.embedTable;
    else {
      this.headTable = rt.empty([vocab, width], 'f32', 'train.tokens.head-table');
      rt.copy(head.w, 0, this.headTable, 0, vocab * width);
    }
    const onehot = new Float32Array(params.ids.length * vocab);
    params.ids.forEach((id, j) => (onehot[j * vocab + id] = 1));
    this.pick = rt.upload(onehot, [params.ids.length, vocab], 'train.tokens.pick');
    this.baseHeadRows = rt.empty([params.ids.length, width], 'f32', 'train.tokens.base-head-rows');
    params.ids.forEach((id, j) => rt.copy(head.w, id * width, this.baseHeadRows, j * width, width));
    rt.submit();
  }

  /** Copies the current rows into the tables (recorded into the step, before the forward reads them). */
  refresh(): void {
    const width = this.decoder.config.hiddenSize;
    const put = (rows: Tensor, table: Tensor) => this.params.ids.forEach((id, j) => this.rt.copy(rows, j * width, table, id * width, width));
    put(this.params.embed.value, this.embedTable);
    if (!this.params.tied) put(this.params.head.value, this.headTable);
  }

  /** Token embeddings [T, D] with the trained rows. */
  embed(s: Scope, ids: Tensor): Tensor {
    const c = this.decoder.config;
    const t = ids.shape[0] as number;
    const out = s.empty([t, c.hiddenSize], 'train.embeds');
    s.rt.run(embedding, [ids, this.embedTable], [out], { rows: t, vocab: c.vocabSize, channels: c.hiddenSize });
    return out;
  }

  /** The output layer with the trained rows. */
  get head(): Linear {
    return { ...this.decoder.lmHead, weight: { kind: 'f32', w: this.headTable } };
  }

  /** lm_head rows' gradient from dlogits [n, V] and the head's input h [n, D]. */
  headBackward(s: Scope, dlogits: Tensor, h: Tensor): void {
    this.picked = linear(s, dlogits, asLinear(this.pick), 'train.tokens.dlogits');
    accumulateWeightGrad(s, this.params.head.grad, this.picked, h);
  }

  /**
   * dh [n, D] += dlogits[:, ids] (rows - base rows): turns dh = dlogits W_base
   * (through the frozen head's kept transpose) into dlogits W with the trained
   * rows, without reading the changing table through the slower gradient kernel.
   */
  headInputCorrection(s: Scope, dh: Tensor): void {
    if (!this.picked) throw new Error('headBackward must run before headInputCorrection');
    const delta = add(s, this.params.head.value, scaled(s, this.baseHeadRows, -1, 'train.tokens.minus-base'), 'train.tokens.head-delta');
    accumulateInputGrad(s, dh, this.picked, delta);
    this.picked = null;
  }

  /** embed_tokens rows' gradient from d(embeddings) [T, D]; positions of other ids add nothing. */
  embedBackward(s: Scope, ids: Int32Array, dEmbeds: Tensor): void {
    const k = this.params.ids.length;
    const at = new Float32Array(ids.length * k);
    let any = false;
    ids.forEach((id, p) => {
      const j = this.params.ids.indexOf(id);
      if (j >= 0) {
        at[p * k + j] = 1;
        any = true;
      }
    });
    if (!any) return;
    const select = s.upload(at, [ids.length, k], 'train.tokens.positions');
    accumulateWeightGrad(s, this.params.embed.grad, select, { ...dEmbeds, shape: [numel(dEmbeds.shape) / this.decoder.config.hiddenSize, this.decoder.config.hiddenSize] });
  }

  release(): void {
    this.rt.release(this.embedTable);
    if (!this.params.tied) this.rt.release(this.headTable);
    this.rt.release(this.pick);
    this.rt.release(this.baseHeadRows);
  }
}
