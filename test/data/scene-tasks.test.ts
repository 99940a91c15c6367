import { describe, expect, it } from 'vitest';
import type { SceneMeta } from '../../src/data/scenes';
import { taskSamples } from '../../src/data/split';
import { denormaliseBox, parseGroundings } from '../../src/data/tasks/grounding';
import { POSITION_MARGIN, POSITIONS } from '../../src/data/tasks/layout';
import type { TaskName } from '../../src/data/tasks/registry';
import type { Sample } from '../../src/data/tasks/types';
import { DEFAULT_TASK_OPTIONS } from '../../src/data/tasks/types';
import { shapePlural, SHAPES } from '../../src/data/vocabulary';
import type { SeenObject } from './pixels';
import { seeScene, seenName, seenSize } from './scene-look';

const N = 150;

/** Each sample with its single question and answer, and the objects seen in its pixels. */
function cases(task: TaskName, seed = 1): { q: string; a: string; seen: SeenObject[]; meta: SceneMeta; s: Sample }[] {
  return [...taskSamples(task, N, seed)].map((s) => {
    const img = s.images[0];
    if (!img || img.meta.kind !== 'scene') throw new Error('expected a scene');
    const [human, gpt] = s.conversations;
    return { q: human?.value.replace(/^<image>\n/, '') ?? '', a: gpt?.value ?? '', seen: seeScene(img.raster, img.meta), meta: img.meta, s };
  });
}

function centre(o: SeenObject): [number, number] {
  return [(o.box.x1 + o.box.x2) / 2, (o.box.y1 + o.box.y2) / 2];
}

function byName(seen: readonly SeenObject[], name: string): SeenObject {
  const hits = seen.filter((o) => seenName(o) === name);
  expect(hits.length, `${name} among ${seen.map(seenName).join(', ')}`).toBe(1);
  return hits[0] as SeenObject;
}

describe('scene questions agree with the pixels', () => {
  it('colour', () => {
    for (const { q, a, seen } of cases('vqa-colour')) {
      const m = /^What colour is the (\w+)\?$/.exec(q);
      expect(m, q).not.toBeNull();
      const matches = m?.[1] === 'object' ? seen : seen.filter((o) => o.shape === m?.[1]);
      expect(matches.length).toBe(1);
      expect(a).toBe(matches[0]?.colour);
    }
  });

  it('shape', () => {
    for (const { q, a, seen } of cases('vqa-shape')) {
      const m = /^What shape is the (?:(\w+) )?object\?$/.exec(q);
      expect(m, q).not.toBeNull();
      const matches = m?.[1] === undefined ? seen : seen.filter((o) => o.colour === m[1]);
      expect(matches.length).toBe(1);
      expect(a).toBe(matches[0]?.shape);
    }
  });

  it('count', () => {
    const answers = new Set<string>();
    for (const { q, a, seen } of cases('vqa-count')) {
      answers.add(a);
      const all = /^How many objects are there\?$/.test(q);
      const colour = /^How many (\w+) objects are there\?$/.exec(q)?.[1];
      const plural = /^How many (\w+) are there\?$/.exec(q)?.[1];
      const shape = SHAPES.find((s) => shapePlural(s) === plural);
      const want = all ? seen.length : colour ? seen.filter((o) => o.colour === colour).length : seen.filter((o) => o.shape === shape).length;
      expect(all || colour !== undefined || shape !== undefined, q).toBe(true);
      expect(a).toBe(String(want));
    }
    expect(answers.has('0')).toBe(true);
  });

  it('position: the named cell holds the object centre, clear of the cell borders', () => {
    for (const { q, a, seen, meta } of cases('vqa-position')) {
      const name = /^Where is the (\w+ \w+)\?$/.exec(q)?.[1] ?? '';
      const [cx, cy] = centre(byName(seen, name));
      const cell = POSITIONS.indexOf(a as (typeof POSITIONS)[number]);
      expect(cell, a).toBeGreaterThanOrEqual(0);
      const [col, row] = [cell % 3, Math.floor(cell / 3)];
      expect(cx).toBeGreaterThanOrEqual((col * meta.width) / 3 + (col > 0 ? POSITION_MARGIN : 0));
      expect(cx).toBeLessThanOrEqual(((col + 1) * meta.width) / 3 - (col < 2 ? POSITION_MARGIN : 0));
      expect(cy).toBeGreaterThanOrEqual((row * meta.height) / 3 + (row > 0 ? POSITION_MARGIN : 0));
      expect(cy).toBeLessThanOrEqual(((row + 1) * meta.height) / 3 - (row < 2 ? POSITION_MARGIN : 0));
    }
  });

  it('relation: yes exactly when one box ends before the other begins, and yes and no both occur', () => {
    let yes = 0;
    for (const { q, a, seen } of cases('vqa-relation')) {
      const m = /^Is the (\w+ \w+) (left of|right of|above|below) the (\w+ \w+)\?$/.exec(q);
      expect(m, q).not.toBeNull();
      const p = byName(seen, m?.[1] ?? '').box;
      const r = byName(seen, m?.[3] ?? '').box;
      const holds = { 'left of': p.x2 <= r.x1, 'right of': r.x2 <= p.x1, above: p.y2 <= r.y1, below: r.y2 <= p.y1 }[m?.[2] as 'above'];
      const opposite = { 'left of': r.x2 <= p.x1, 'right of': p.x2 <= r.x1, above: r.y2 <= p.y1, below: p.y2 <= r.y1 }[m?.[2] as 'above'];
      expect(holds || opposite, `${q} is decidable`).toBe(true);
      expect(a).toBe(holds ? 'yes' : 'no');
      yes += a === 'yes' ? 1 : 0;
    }
    expect(yes / N).toBeGreaterThan(0.35);
    expect(yes / N).toBeLessThan(0.65);
  });

  it('grounding: the 0-1000 box covers every pixel of the named object, with under a pixel to spare per side', () => {
    for (const task of ['grounding', 'grounding-all'] as const) {
      for (const { a, seen, meta } of cases(task)) {
        const gs = parseGroundings(a);
        expect(gs.length).toBe(task === 'grounding' ? 1 : seen.length);
        expect(gs.map((g) => g.ref).join('')).toBe(a.replace(/<box>[^<]*<\/box>/g, '').replace(/<\/?ref>/g, ''));
        for (const g of gs) {
          const o = byName(seen, g.ref).box;
          const px = denormaliseBox(g.box, meta.width, meta.height);
          expect(px.x1 <= o.x1 && px.y1 <= o.y1 && px.x2 >= o.x2 && px.y2 >= o.y2, `${a} covers ${JSON.stringify(o)}`).toBe(true);
          expect(Math.max(o.x1 - px.x1, o.y1 - px.y1, px.x2 - o.x2, px.y2 - o.y2)).toBeLessThanOrEqual(1);
          // In 0-1000 units the box contains the object's exact extent with less than one unit of slack.
          const [nx1, ny1, nx2, ny2] = g.box;
          const slacks = [
            (o.x1 * 1000) / meta.width - nx1,
            (o.y1 * 1000) / meta.height - ny1,
            nx2 - (o.x2 * 1000) / meta.width,
            ny2 - (o.y2 * 1000) / meta.height,
          ];
          for (const slack of slacks) {
            expect(slack).toBeGreaterThanOrEqual(0);
            expect(slack).toBeLessThan(1);
          }
        }
      }
    }
  });

  it('referring: the box holds exactly the object named in the answer', () => {
    for (const { q, a, seen, meta } of cases('referring')) {
      const n = /<box>\((\d+),(\d+)\),\((\d+),(\d+)\)<\/box>/.exec(q)?.slice(1).map(Number) ?? [];
      const px = denormaliseBox(n as unknown as [number, number, number, number], meta.width, meta.height);
      const inside = seen.filter((o) => o.box.x1 >= px.x1 && o.box.y1 >= px.y1 && o.box.x2 <= px.x2 && o.box.y2 <= px.y2);
      expect(inside.map(seenName)).toEqual([a]);
    }
  });

  it('describe: names every object once with its size, the count and the background', () => {
    for (const { a, seen, meta } of cases('describe')) {
      const count = seen.length === 1 ? '1 object' : `${seen.length} objects`;
      const bg = `${meta.background.noisy ? 'noisy' : 'plain'} ${meta.background.colour}`;
      expect(a.startsWith(`The image shows ${count} on a ${bg} background: `), a).toBe(true);
      for (const o of seen) expect(a.split(`a ${seenSize(o, meta)} ${seenName(o)} `).length - 1, a).toBe(1);
      expect(a.split(/ (?:small|medium|large) /).length - 1).toBe(seen.length);
    }
  });
});

describe('multi-turn conversations', () => {
  it('alternate human and gpt, put the image token in the first turn only, and use the single-turn templates', () => {
    const templates = [
      /^What colour is the (object|\w+)\?$/,
      /^What shape is the (\w+ )?object\?$/,
      /^How many .+ are there\?$/,
      /^Where is the \w+ \w+\?$/,
      /^Is the \w+ \w+ (left of|right of|above|below) the \w+ \w+\?$/,
      /^Locate the \w+ \w+\.$/,
      /^What is the object at <box>.*<\/box>\?$/,
      /^Describe this image in detail\.$/,
    ];
    for (const s of taskSamples('multi-turn', N, 3, DEFAULT_TASK_OPTIONS)) {
      const turns = s.conversations;
      expect(turns.length % 2).toBe(0);
      expect(turns.length).toBeGreaterThanOrEqual(4);
      expect(turns.length).toBeLessThanOrEqual(10);
      turns.forEach((t, i) => {
        expect(t.from).toBe(i % 2 === 0 ? 'human' : 'gpt');
        expect(t.value.includes('<image>')).toBe(i === 0);
        if (t.from === 'human') expect(templates.some((re) => re.test(t.value.replace(/^<image>\n/, ''))), t.value).toBe(true);
      });
    }
  });
});
