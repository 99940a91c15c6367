/**
 * Every kernel spec by name: the one place tools look kernels up (ORT's
 * op-resolve map). The GPU check (verify/check-cases.ts) runs each name here
 * against its CPU twin and its table is typed by KernelName, so a kernel
 * added here without a check case does not compile. A test checks that every
 * .wgsl file in this folder is served by some spec here.
 */
import type { KernelSpec } from '../kernel';
import { activation, activationBackward, swiglu, swigluBackward } from './activations';
import { adamw } from './adamw';
import { argmax } from './argmax';
import { attention } from './attention';
import { avgPool } from './avg-pool';
import { attentionBackwardKv, attentionBackwardQ } from './attention-backward';
import { concat } from './concat';
import { crossEntropy, crossEntropyBackward } from './cross-entropy';
import { elementwise, scale } from './elementwise';
import { embedding, embeddingBackward } from './embedding';
import { im2col } from './im2col';
import { kvAppend } from './kv-append';
import { layerNorm, layerNormBackward, layerNormParamGrad } from './layer-norm';
import { matmul } from './matmul';
import { matmulBiasGrad } from './matmul-bias-grad';
import { matmulF16, matmulW16 } from './matmul-f16';
import { matmulGradInput, matmulGradWeight } from './matmul-grad';
import { matmulQuant } from './matmul-quant';
import { matmulVec4 } from './matmul-vec4';
import { rmsNorm, rmsNormBackward, rmsNormWeightGrad } from './rms-norm';
import { rope, ropeBackward } from './rope';
import { softmax, softmaxBackward } from './softmax';
import { sumSquares } from './sum-squares';
import { topK } from './top-k';
import { transpose } from './transpose';

export const kernels = {
  activation,
  activationBackward,
  adamw,
  argmax,
  attention,
  attentionBackwardKv,
  attentionBackwardQ,
  avgPool,
  concat,
  crossEntropy,
  crossEntropyBackward,
  elementwise,
  embedding,
  embeddingBackward,
  im2col,
  kvAppend,
  layerNorm,
  layerNormBackward,
  layerNormParamGrad,
  matmul,
  matmulBiasGrad,
  matmulF16,
  matmulW16,
  matmulGradInput,
  matmulGradWeight,
  matmulQuant,
  matmulVec4,
  rmsNorm,
  rmsNormBackward,
  rmsNormWeightGrad,
  rope,
  ropeBackward,
  scale,
  softmax,
  softmaxBackward,
  sumSquares,
  swiglu,
  swigluBackward,
  topK,
  transpose,
} as const satisfies Record<string, KernelSpec<never, unknown>>;

export type KernelName = keyof typeof kernels;
