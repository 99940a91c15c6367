import { describe, expect, it } from 'vitest';
import { learningRateAt, totalStepsFor } from '../../src/worker/jobs/finetune/schedule';

/**
 * torch.optim.lr_scheduler.LambdaLR over transformers'
 * get_cosine_schedule_with_warmup / get_constant_schedule_with_warmup lambdas
 * (SGD at lr 2e-4, the group's lr read before each optimizer.step(), then
 * scheduler.step()), printed by PyTorch 1.13.
 */
const TORCH = {
  cosine_w3_t10: [0.0, 6.666666666666667e-5, 0.00013333333333333334, 0.0002, 0.0001900968867902419, 0.00016234898018587337, 0.00012225209339563145, 7.774790660436858e-5, 3.7651019814126654e-5, 9.903113209758096e-6],
  cosine_w0_t7: [0.0002, 0.0001900968867902419, 0.00016234898018587337, 0.00012225209339563145, 7.774790660436858e-5, 3.7651019814126654e-5, 9.903113209758096e-6],
  constant_w4_t6: [0.0, 5e-5, 0.0001, 0.00015000000000000001, 0.0002, 0.0002],
};

describe('fine-tune learning-rate schedule', () => {
  const cases: [keyof typeof TORCH, 'cosine' | 'constant', number][] = [
    ['cosine_w3_t10', 'cosine', 3],
    ['cosine_w0_t7', 'cosine', 0],
    ['constant_w4_t6', 'constant', 4],
  ];
  it.each(cases)('%s equals PyTorch step by step', (name, schedule, warmupSteps) => {
    const want = TORCH[name];
    const got = want.map((_, i) => learningRateAt(i + 1, want.length, { learningRate: 2e-4, warmupSteps, schedule }));
    for (const [i, lr] of got.entries()) expect(lr, `step ${i + 1}`).toBeCloseTo(want[i] as number, 15);
  });

  it('counts steps from epochs when steps is 0', () => {
    expect(totalStepsFor({ steps: 0, epochs: 2, batchSize: 4, gradAccumulation: 2 }, 21)).toBe(6);
    expect(totalStepsFor({ steps: 0, epochs: 0.5, batchSize: 1, gradAccumulation: 1 }, 5)).toBe(3);
    expect(totalStepsFor({ steps: 13, epochs: 2, batchSize: 4, gradAccumulation: 2 }, 21)).toBe(13);
  });
});
