/**
 * The order training examples are read in: a seeded shuffle per epoch, and a
 * position in it. The order is part of a checkpoint, so a resumed run reads
 * the same examples in the same order as one that never stopped.
 */
import { deriveSeed, Rng } from '../../../data/random';

export interface DataOrder {
  /** Epoch of `indices` (0-based); the next epoch is shuffled from the seed and its number. */
  epoch: number;
  /** This epoch's shuffled indices into the training examples. */
  indices: number[];
  /** Next index of `indices` to read. */
  position: number;
}

export function epochOrder(seed: number, epoch: number, count: number): DataOrder {
  const rng = new Rng(deriveSeed('finetune-order', seed, epoch));
  return { epoch, indices: rng.shuffle(Array.from({ length: count }, (_, i) => i)), position: 0 };
}

/**
 * The next `n` example indices and the order after them, crossing into new
 * epochs as needed; `order` itself is left as it was, so a step that does not
 * complete does not move the data.
 */
export function takeNext(order: DataOrder, n: number, seed: number, count: number): { picked: number[]; next: DataOrder } {
  if (count < 1) throw new RangeError('there are no training examples to read');
  let cur: DataOrder = { ...order, indices: order.indices };
  const picked: number[] = [];
  while (picked.length < n) {
    if (cur.position >= cur.indices.length) cur = epochOrder(seed, cur.epoch + 1, count);
    picked.push(cur.indices[cur.position] as number);
    cur = { ...cur, position: cur.position + 1 };
  }
  return { picked, next: cur };
}
