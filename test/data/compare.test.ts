import { describe, expect, it } from 'vitest';
import { taskSamples } from '../../src/data/split';
import { COMPARE_PROMPT } from '../../src/data/tasks/compare';
import type { SeenObject } from './pixels';
import { seeScene, seenName } from './scene-look';

function diffBox(a: Uint8Array, b: Uint8Array, width: number): { x1: number; y1: number; x2: number; y2: number } | null {
  let box: { x1: number; y1: number; x2: number; y2: number } | null = null;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const p = Math.floor(i / 3);
    const [x, y] = [p % width, Math.floor(p / width)];
    box = box
      ? { x1: Math.min(box.x1, x), y1: Math.min(box.y1, y), x2: Math.max(box.x2, x + 1), y2: Math.max(box.y2, y + 1) }
      : { x1: x, y1: y, x2: x + 1, y2: y + 1 };
  }
  return box;
}

const names = (seen: readonly SeenObject[]): string[] => seen.map(seenName).sort();

describe('two-image comparison', () => {
  it('changes one object, says which, and leaves every other pixel alone', () => {
    const kinds = new Set<string>();
    for (const s of taskSamples('compare', 120, 5)) {
      const [first, second] = s.images;
      if (!first || !second || first.meta.kind !== 'scene' || second.meta.kind !== 'scene') throw new Error('expected two scenes');
      expect(s.imageNames.length).toBe(2);
      expect(s.conversations[0]?.value).toBe(`<image>\n<image>\n${COMPARE_PROMPT}`);
      const a = s.conversations[1]?.value ?? '';
      const before = seeScene(first.raster, first.meta);
      const after = seeScene(second.raster, second.meta);
      const gone = names(before).filter((n) => !names(after).includes(n));
      const added = names(after).filter((n) => !names(before).includes(n));
      let m: RegExpExecArray | null;
      if ((m = /^The second image has an extra (\w+ \w+)\.$/.exec(a))) {
        kinds.add('add');
        expect([gone, added]).toEqual([[], [m[1]]]);
      } else if ((m = /^The second image has no (\w+ \w+)\.$/.exec(a))) {
        kinds.add('remove');
        expect([gone, added]).toEqual([[m[1]], []]);
      } else if ((m = /^The (\w+) (\w+) is (\w+) in the second image\.$/.exec(a))) {
        kinds.add('recolour');
        expect([gone, added]).toEqual([[`${m[1]} ${m[2]}`], [`${m[3]} ${m[2]}`]]);
      } else if ((m = /^The (\w+) (\w+) is a (\w+) in the second image\.$/.exec(a))) {
        kinds.add('reshape');
        expect([gone, added]).toEqual([[`${m[1]} ${m[2]}`], [`${m[1]} ${m[3]}`]]);
      } else {
        throw new Error(`unexpected answer ${a}`);
      }
      // Every changed pixel lies in the changed object's square, before or after.
      const changed = [...before.filter((o) => gone.includes(seenName(o))), ...after.filter((o) => added.includes(seenName(o)))];
      const d = diffBox(first.raster.data, second.raster.data, first.meta.width);
      expect(d).not.toBeNull();
      const x1 = Math.min(...changed.map((o) => o.box.x1));
      const y1 = Math.min(...changed.map((o) => o.box.y1));
      const x2 = Math.max(...changed.map((o) => o.box.x2));
      const y2 = Math.max(...changed.map((o) => o.box.y2));
      expect(d && d.x1 >= x1 && d.y1 >= y1 && d.x2 <= x2 && d.y2 <= y2).toBe(true);
    }
    expect(kinds).toEqual(new Set(['add', 'remove', 'recolour', 'reshape']));
  });
});
