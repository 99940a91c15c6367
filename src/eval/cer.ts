/**
 * Character error rate: edits (insertions, deletions, substitutions) to turn
 * the recognised text into the reference, over the reference length. Runs of
 * whitespace count as one space, since line and word spacing are layout.
 */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      const sub = (prev[j - 1] as number) + (x[i - 1] === y[j - 1] ? 0 : 1);
      cur.push(Math.min(sub, (prev[j] as number) + 1, (cur[j - 1] as number) + 1));
    }
    prev = cur;
  }
  return prev[y.length] as number;
}

const norm = (s: string) => s.replace(/\s+/g, ' ').trim();

export interface CerResult {
  errors: number;
  length: number;
  cer: number;
}

export function characterErrorRate(reference: string, recognised: string): CerResult {
  const ref = norm(reference);
  const hyp = norm(recognised);
  const errors = editDistance(ref, hyp);
  return { errors, length: [...ref].length, cer: ref.length === 0 ? (hyp.length === 0 ? 0 : 1) : errors / [...ref].length };
}
