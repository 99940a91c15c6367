/**
 * Boxes from a grounding answer drawn over the image the question was about.
 * The overlay is absolutely positioned over the image and every box is placed
 * in percentages of the image's natural size, so the boxes follow the image
 * at any displayed size (phone or desktop) without being recomputed.
 */
import type { GroundedObject, ImageSize, TaskRegions } from '../../worker/api';
import { h } from '../dom';

/** Reads the boxes out of an answer (the worker's parseGrounding). */
export type GroundingParser = (text: string, size: ImageSize) => Promise<GroundedObject[]>;

/** Distinct, readable on white, grey and black backgrounds. */
const BOX_COLOURS = ['#ff1744', '#2979ff', '#00c853', '#ffab00', '#d500f9', '#00b8d4'];

export interface GroundingFigure {
  element: HTMLElement;
  /** Redraws from the answer so far, or from the worker's post-processed regions when a task prompt has them. */
  update(text: string, regions?: TaskRegions): void;
  setVisible(visible: boolean): void;
}

const pct = (v: number, of: number) => `${((100 * v) / of).toFixed(3)}%`;
const px = (v: number) => v.toFixed(2);

function boxElement(obj: GroundedObject, index: number, size: { width: number; height: number }): HTMLElement {
  const { x1, y1, x2, y2 } = obj.box;
  const colour = BOX_COLOURS[index % BOX_COLOURS.length] as string;
  const label = obj.label || `object ${index + 1}`;
  const el = h(
    'div',
    {
      class: `ground-box${obj.polygon ? ' quad' : ''}${obj.partial ? ' partial' : ''}`,
      'data-testid': 'ground-box',
      'data-label': label,
      'data-x1': px(x1),
      'data-y1': px(y1),
      'data-x2': px(x2),
      'data-y2': px(y2),
      title: `${label}: (${Math.round(x1)}, ${Math.round(y1)}) to (${Math.round(x2)}, ${Math.round(y2)}) px${obj.partial ? ', cut off' : ''}`,
    },
    h('span', { class: 'ground-label' }, label),
  );
  el.style.left = pct(x1, size.width);
  el.style.top = pct(y1, size.height);
  el.style.width = pct(x2 - x1, size.width);
  el.style.height = pct(y2 - y1, size.height);
  el.style.setProperty('--box-colour', colour);
  return el;
}

export function groundingFigure(imageUrl: string, name: string, parse: GroundingParser): GroundingFigure {
  const img = h('img', { src: imageUrl, alt: `${name} with the boxes from the answer`, class: 'ground-image', 'data-testid': 'ground-image' });
  const overlay = h('div', { class: 'ground-overlay', 'data-testid': 'ground-overlay', 'aria-hidden': 'true' });
  const legend = h('ul', { class: 'ground-legend', 'data-testid': 'ground-legend' });
  const frame = h('div', { class: 'ground-frame' }, img, overlay);
  const element = h('figure', { class: 'ground-figure', 'data-testid': 'ground-figure', hidden: '' }, frame, legend);
  let text = '';
  let visible = true;
  let count = 0;
  let drawn = 0;
  let regions: TaskRegions | undefined;

  const show = (objects: GroundedObject[], size: ImageSize) => {
    overlay.replaceChildren(...objects.map((o, i) => boxElement(o, i, size)));
    legend.replaceChildren(
      ...objects.map((o, i) => {
        const b = o.box;
        const sw = h('span', { class: 'swatch' });
        sw.style.background = BOX_COLOURS[i % BOX_COLOURS.length] as string;
        return h('li', {}, sw, `${o.label || `object ${i + 1}`}: x ${Math.round(b.x1)}-${Math.round(b.x2)}, y ${Math.round(b.y1)}-${Math.round(b.y2)} px`);
      }),
    );
    count = objects.length;
    element.hidden = !visible || count === 0;
  };
  const draw = async () => {
    if (regions) {
      ++drawn;
      // Already in pixels of the image as the worker decoded it: placed in percentages of that size.
      show(regions.objects, regions.imageSize);
      return;
    }
    const size = { width: img.naturalWidth, height: img.naturalHeight };
    // Parses finish out of order while an answer streams: only the latest one is drawn.
    const ticket = ++drawn;
    // Before the image has decoded its size is 0; the load handler draws again.
    const objects = size.width > 0 && text ? await parse(text, size).catch(() => []) : [];
    if (ticket === drawn) show(objects, size);
  };
  img.addEventListener('load', () => void draw());

  return {
    element,
    update(next, nextRegions) {
      text = next;
      regions = nextRegions;
      void draw();
    },
    setVisible(v) {
      visible = v;
      element.hidden = !visible || count === 0;
    },
  };
}
