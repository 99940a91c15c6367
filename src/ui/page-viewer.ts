/**
 * One page with its text on top: the page image, and over it every line as a
 * transparent, absolutely placed span, so a person can select and copy the
 * text where it stands, and search matches light up on the image. On an OCR
 * page the spans are outlined (the lines the detector found, so what it
 * missed shows), and a region drawn on the image can be read again.
 */
import type { PageResult } from '../worker/api';
import { h } from './dom';

export interface PageViewer {
  element: HTMLElement;
  /** Marks lines containing `query` (case-insensitive); returns how many matched. */
  search(query: string): number;
  /** Marks the lines holding a model's answer (replacing earlier marks) and scrolls the first into view. */
  markAnswer(lines: readonly number[]): void;
}

function lineSpan(page: PageResult, text: string, box: PageResult['lines'][number]['box'], index: number): HTMLElement {
  const pct = (v: number, of: number) => `${((100 * v) / of).toFixed(3)}%`;
  const span = h('span', { class: 'text-line', 'data-testid': 'overlay-line', 'data-line': String(index) }, text);
  span.style.left = pct(box.x, page.width);
  span.style.top = pct(box.y, page.height);
  span.style.width = pct(box.width, page.width);
  span.style.height = pct(box.height, page.height);
  // Font size in container-query units, so the text scales with the page image.
  span.style.fontSize = `${((75 * box.height) / page.width).toFixed(3)}cqw`;
  return span;
}

/**
 * Drawing a rectangle on the frame: pointer down, drag, up. `done` gets it in
 * page pixels; regions smaller than 4 px a side are taken as a click and ignored.
 */
function regionDrawing(frame: HTMLElement, page: PageResult, done: (box: PageResult['lines'][number]['box']) => void): HTMLElement {
  const layer = h('div', { class: 'region-layer', 'data-testid': 'region-layer' });
  const rect = h('div', { class: 'region-rect', hidden: '' });
  layer.append(rect);
  let start: { x: number; y: number } | null = null;
  const at = (e: PointerEvent) => {
    const r = frame.getBoundingClientRect();
    return { x: Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)), y: Math.min(1, Math.max(0, (e.clientY - r.top) / r.height)) };
  };
  const span = (a: { x: number; y: number }, b: { x: number; y: number }) => ({ x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), width: Math.abs(a.x - b.x), height: Math.abs(a.y - b.y) });
  layer.addEventListener('pointerdown', (e) => {
    start = at(e);
    layer.setPointerCapture?.(e.pointerId);
    rect.hidden = false;
    Object.assign(rect.style, { left: `${100 * start.x}%`, top: `${100 * start.y}%`, width: '0', height: '0' });
  });
  layer.addEventListener('pointermove', (e) => {
    if (!start) return;
    const s = span(start, at(e));
    Object.assign(rect.style, { left: `${100 * s.x}%`, top: `${100 * s.y}%`, width: `${100 * s.width}%`, height: `${100 * s.height}%` });
  });
  layer.addEventListener('pointerup', (e) => {
    if (!start) return;
    const s = span(start, at(e));
    start = null;
    rect.hidden = true;
    const box = { x: s.x * page.width, y: s.y * page.height, width: s.width * page.width, height: s.height * page.height };
    if (box.width >= 4 && box.height >= 4) done(box);
  });
  return layer;
}

/** `onRegion`: the person drew a region (page pixels) to read again; without it, or on a text-layer page, no drawing is offered. */
export function pageViewer(page: PageResult, imageUrl: string | null, onRegion?: (box: PageResult['lines'][number]['box']) => void): PageViewer {
  const overlay = h('div', { class: 'text-overlay', 'data-testid': 'text-overlay' }, ...page.lines.map((l, i) => lineSpan(page, l.text, l.box, i)));
  const image = imageUrl ? h('img', { src: imageUrl, alt: `Page ${page.page}`, class: 'page-image' }) : h('div', { class: 'page-image blank' });
  const frame = h('div', { class: 'page-frame' }, image, overlay);
  frame.style.aspectRatio = `${page.width} / ${page.height}`;
  const tools = h('div', { class: 'toolbar page-tools' });
  if (page.source === 'ocr') {
    const boxes = h('input', { type: 'checkbox', checked: '', 'data-testid': 'show-boxes' });
    frame.classList.add('show-boxes');
    boxes.addEventListener('change', () => frame.classList.toggle('show-boxes', boxes.checked));
    tools.append(h('label', {}, boxes, ' Show the lines found'));
    if (onRegion && imageUrl) {
      const layer = regionDrawing(frame, page, onRegion);
      const draw = h('button', { type: 'button', 'data-testid': 'region-ocr', 'aria-pressed': 'false', title: 'Drag over the page image to read that region again' }, 'Read a region again');
      draw.addEventListener('click', () => {
        const on = draw.getAttribute('aria-pressed') !== 'true';
        draw.setAttribute('aria-pressed', String(on));
        if (on) frame.append(layer);
        else layer.remove();
      });
      tools.append(draw);
    }
  }
  const conf = (c: number | null) => (page.source !== 'ocr' || c === null ? '' : ` ${(100 * c).toFixed(0)}%`);
  const listItems = page.lines.map((l) => h('li', { 'data-testid': 'ocr-line' }, h('span', { class: 'line-text' }, l.text), h('span', { class: 'muted conf' }, conf(l.confidence))));
  const list = page.lines.length ? h('ol', { class: 'line-list', 'data-testid': 'line-list' }, ...listItems) : h('p', { class: 'bad', 'data-testid': 'no-text' }, 'No text found on this page.');
  const source = page.source === 'text-layer' ? 'text layer of the PDF (no OCR needed)' : page.ocrEngine === 'florence-2' ? `read by Florence-2 OCR in ${(page.ms / 1000).toFixed(1)} s (it gives no confidence per line)` : `read by OCR in ${(page.ms / 1000).toFixed(1)} s`;
  const element = h(
    'div',
    { class: 'page-view', 'data-testid': 'page-view', 'data-source': page.source },
    h('p', { 'data-testid': 'page-source' }, `Page ${page.page}: ${source}, ${page.lines.length} lines.`),
    tools,
    frame,
    list,
  );
  const spans = [...overlay.children] as HTMLElement[];
  return {
    element,
    search(query) {
      const q = query.trim().toLowerCase();
      let hits = 0;
      page.lines.forEach((l, i) => {
        const hit = q !== '' && l.text.toLowerCase().includes(q);
        if (hit) hits++;
        spans[i]?.classList.toggle('match', hit);
        listItems[i]?.classList.toggle('match', hit);
      });
      return hits;
    },
    markAnswer(lines) {
      const marked = new Set(lines);
      spans.forEach((s, i) => s.classList.toggle('answer', marked.has(i)));
      listItems.forEach((li, i) => li.classList.toggle('answer', marked.has(i)));
      const first = lines[0];
      if (first !== undefined) spans[first]?.scrollIntoView?.({ block: 'nearest' });
    },
  };
}
