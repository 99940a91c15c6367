import { describe, expect, it } from 'vitest';
import { BACKGROUND_RGB, BACKGROUNDS, COLOUR_RGB, NOISE_AMPLITUDE } from '../../src/data/palette';
import { Rng } from '../../src/data/random';
import { getPixel, sameRgb } from '../../src/data/raster';
import type { SceneImage } from '../../src/data/scenes';
import { generateScene, OBJECT_GAP, renderScene, sizeSide } from '../../src/data/scenes';
import type { HeldOutMode } from '../../src/data/vocabulary';
import { COLOURS, HELD_OUT_COLOURS, HELD_OUT_SHAPES, isHeldOut, SIZES } from '../../src/data/vocabulary';
import { components, rgbDistance } from './pixels';

function scenes(n: number, seed: number, mode: HeldOutMode = 'exclude'): SceneImage[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => generateScene(rng, { heldOut: mode }));
}

describe('palette', () => {
  it('keeps every object colour out of reach of background noise', () => {
    for (const bg of BACKGROUNDS) {
      for (const c of COLOURS) expect(rgbDistance(COLOUR_RGB[c], BACKGROUND_RGB[bg]), `${c} on ${bg}`).toBeGreaterThan(NOISE_AMPLITUDE);
    }
  });
});

describe('scenes', () => {
  it('are deterministic: same seed, same bytes; another seed, other bytes', () => {
    const a = generateScene(new Rng(123));
    const b = generateScene(new Rng(123));
    const c = generateScene(new Rng(124));
    expect(Buffer.from(a.raster.data).equals(Buffer.from(b.raster.data))).toBe(true);
    expect(a.meta).toEqual(b.meta);
    expect(Buffer.from(a.raster.data).equals(Buffer.from(c.raster.data))).toBe(false);
  });

  it('hold 1-5 distinct objects that keep a background gap between their squares', () => {
    for (const s of scenes(300, 1)) {
      const objs = s.meta.objects;
      expect(objs.length).toBeGreaterThanOrEqual(1);
      expect(objs.length).toBeLessThanOrEqual(5);
      expect(new Set(objs.map((o) => `${o.colour} ${o.shape}`)).size).toBe(objs.length);
      for (const [i, a] of objs.entries()) {
        expect(a.side).toBe(sizeSide(a.size, 64, 64));
        for (const b of objs.slice(i + 1)) {
          const apart =
            a.x + a.side + OBJECT_GAP <= b.x || b.x + b.side + OBJECT_GAP <= a.x ||
            a.y + a.side + OBJECT_GAP <= b.y || b.y + b.side + OBJECT_GAP <= a.y;
          expect(apart).toBe(true);
        }
      }
    }
  });

  it('paint exactly what the metadata says, as seen by a flood fill over the pixels', () => {
    for (const s of scenes(300, 2)) {
      const bg = BACKGROUND_RGB[s.meta.background.colour];
      const slack = s.meta.background.noisy ? NOISE_AMPLITUDE : 0;
      const found = components(s.raster, (c) => rgbDistance(c, bg) > slack);
      // One region per object, of the object's colour, with the object's box.
      expect(found.length).toBe(s.meta.objects.length);
      for (const o of s.meta.objects) {
        const match = found.filter((f) => sameRgb(f.colour, COLOUR_RGB[o.colour]) && f.box.x1 === o.bbox.x1 && f.box.y1 === o.bbox.y1);
        expect(match.length, JSON.stringify(o)).toBe(1);
        expect(match[0]?.box).toEqual(o.bbox);
      }
    }
  });

  it('label every painted pixel with its object and nothing else', () => {
    for (const s of scenes(100, 3)) {
      const { width, height } = s.meta;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const v = s.labels[y * width + x] as number;
          const o = s.meta.objects[v - 1];
          if (v === 0) continue;
          expect(o).toBeDefined();
          if (!o) continue;
          expect(sameRgb(getPixel(s.raster, x, y), COLOUR_RGB[o.colour])).toBe(true);
          expect(x >= o.bbox.x1 && x < o.bbox.x2 && y >= o.bbox.y1 && y < o.bbox.y2).toBe(true);
        }
      }
    }
  });

  it('re-render from their metadata to the same bytes (noise included)', () => {
    for (const s of scenes(20, 4)) expect(Buffer.from(renderScene(s.meta).raster.data).equals(Buffer.from(s.raster.data))).toBe(true);
  });

  it('use plain and noisy backgrounds of every colour, and every size', () => {
    const all = scenes(300, 5);
    expect(new Set(all.map((s) => `${s.meta.background.colour} ${s.meta.background.noisy}`)).size).toBe(6);
    expect(new Set(all.flatMap((s) => s.meta.objects.map((o) => o.size)))).toEqual(new Set(SIZES));
    expect(new Set(all.map((s) => s.meta.objects.length))).toEqual(new Set([1, 2, 3, 4, 5]));
  });
});

describe('held-out shapes and colours', () => {
  it('never appear in base scenes, not even as one pixel of their colour', () => {
    const held = HELD_OUT_COLOURS.map((c) => COLOUR_RGB[c]);
    let heldPixels = 0;
    for (const s of scenes(400, 6)) {
      for (const o of s.meta.objects) expect(isHeldOut(o)).toBe(false);
      const d = s.raster.data;
      for (let i = 0; i < d.length; i += 3) {
        for (const h of held) if (d[i] === h[0] && d[i + 1] === h[1] && d[i + 2] === h[2]) heldPixels++;
      }
    }
    expect(heldPixels).toBe(0);
  });

  it('appear when included, and in every scene when focused on', () => {
    const included = scenes(400, 7, 'include').flatMap((s) => s.meta.objects);
    expect(included.some((o) => HELD_OUT_SHAPES.includes(o.shape))).toBe(true);
    expect(included.some((o) => HELD_OUT_COLOURS.includes(o.colour))).toBe(true);
    for (const s of scenes(200, 8, 'focus')) expect(s.meta.objects.some(isHeldOut)).toBe(true);
  });
});
