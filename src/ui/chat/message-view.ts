/**
 * One turn of the conversation on screen. Everything the model or the person
 * wrote goes in as text nodes (h() never parses HTML), so an answer that
 * contains markup, such as grounding tags, shows as the characters it is.
 */
import { h } from '../dom';
import type { AssistantTurn, TurnError, UserTurn } from './conversation';
import { describeError } from './error-text';
import { groundingFigure, type GroundingFigure, type GroundingParser } from './grounding-view';

export interface ShownImage {
  url: string;
  name: string;
}

export function errorNotice(error: TurnError): HTMLElement {
  const { headline, detail, advice } = describeError(error);
  return h(
    'div',
    { class: 'chat-error', role: 'alert', 'data-testid': 'chat-error', 'data-code': error.code },
    h('strong', {}, headline),
    ' ',
    h('span', { 'data-testid': 'chat-error-detail' }, detail),
    h('p', { class: 'advice' }, advice),
  );
}

export function userMessage(turn: UserTurn, images: (ShownImage | null)[]): HTMLElement {
  const thumbs = images.map((img, i) =>
    img ? h('img', { src: img.url, alt: img.name, title: img.name, class: 'msg-thumb', 'data-testid': 'msg-image' }) : h('span', { class: 'msg-thumb missing', title: 'This image is no longer stored' }, `image ${i + 1} missing`),
  );
  return h(
    'li',
    { class: turn.error ? 'msg user failed' : 'msg user', 'data-testid': 'msg-user', 'data-id': turn.id },
    thumbs.length ? h('div', { class: 'msg-images' }, ...thumbs) : null,
    h('p', { class: 'msg-text', 'data-testid': 'msg-text' }, turn.text),
    turn.error ? h('p', { class: 'muted not-sent' }, 'Not answered: it stays here but is left out of the conversation the model sees.') : null,
    turn.error ? errorNotice(turn.error) : null,
  );
}

function statsText(turn: AssistantTurn): string {
  const s = turn.stats;
  if (!s) return '';
  const reused = s.reusedPositions > 0 ? `, ${s.reusedPositions} from the cache` : '';
  const recomputed = s.recomputed ? `; prompt recomputed: ${s.recomputed}` : '';
  return `${s.newTokens} tokens at ${s.tokensPerSecond.toFixed(1)} tok/s, first after ${Math.round(s.ttftMs)} ms; prompt ${s.promptTokens} tokens${reused}${recomputed}`;
}

function stoppedText(t: AssistantTurn): string {
  if (t.finish === 'interrupted') return t.text.length ? 'Stopped by a reload: this is the partial answer.' : 'Stopped by a reload before the first word.';
  return t.text.length ? 'Stopped: this is the partial answer.' : 'Stopped before the first word.';
}

export interface AnswerView {
  element: HTMLElement;
  update(turn: AssistantTurn): void;
  setBoxesVisible(visible: boolean): void;
}

/** An answer, updated in place while it streams; boxes in it are drawn over `image` when there is one. */
export function answerMessage(turn: AssistantTurn, image: ShownImage | null, showBoxes: boolean, parse: GroundingParser): AnswerView {
  const text = h('p', { class: 'msg-text', 'data-testid': 'answer-text' });
  const stopped = h('p', { class: 'stopped', 'data-testid': 'answer-stopped', hidden: '' }, 'Stopped: this is the partial answer.');
  const stats = h('p', { class: 'muted stats', 'data-testid': 'answer-stats' });
  const figure: GroundingFigure | null = image ? groundingFigure(image.url, image.name, parse) : null;
  figure?.setVisible(showBoxes);
  const element = h('li', { class: 'msg assistant', 'data-testid': 'msg-assistant', 'data-id': turn.id }, text, stopped, figure?.element ?? null, stats);

  const update = (t: AssistantTurn) => {
    text.textContent = t.text;
    element.dataset.finish = t.finish;
    element.classList.toggle('streaming', t.finish === 'streaming');
    element.setAttribute('aria-busy', String(t.finish === 'streaming'));
    stopped.hidden = t.finish !== 'cancelled' && t.finish !== 'interrupted';
    stopped.textContent = stoppedText(t);
    stats.textContent = statsText(t);
    figure?.update(t.text, t.regions);
  };
  update(turn);
  return { element, update, setBoxesVisible: (v) => figure?.setVisible(v) };
}
