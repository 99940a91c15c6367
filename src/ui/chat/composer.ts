/**
 * Where a person writes: the question box (Enter sends, Shift+Enter is a new
 * line), Send and Stop, the images waiting to go, the "Where is …?" helper that
 * asks the grounding question in the words the model was trained on (the
 * worker words it), the boxes toggle, and Clear conversation. A model that
 * answers task prompts (Florence-2) gets a button for each task instead.
 */
import { h } from '../dom';
import type { Attachments } from './attachments';

export interface ComposerEvents {
  send(text: string): void;
  stop(): void;
  clear(): void;
  showBoxes(on: boolean): void;
  /** The question that asks where `phrase` is; null when there is nothing to look for. */
  groundingQuestion(phrase: string): Promise<string | null>;
}

/** The task prompts we offer buttons for; Phrase grounding asks about the typed text. */
const TASK_BUTTONS: { task: string; label: string; usesText?: boolean }[] = [
  { task: '<CAPTION>', label: 'Caption' },
  { task: '<DETAILED_CAPTION>', label: 'Detailed caption' },
  { task: '<OD>', label: 'Object detection' },
  { task: '<CAPTION_TO_PHRASE_GROUNDING>', label: 'Phrase grounding', usesText: true },
  { task: '<OCR>', label: 'OCR' },
  { task: '<OCR_WITH_REGION>', label: 'OCR with regions' },
];

export interface Composer {
  element: HTMLElement;
  text(): string;
  setText(text: string): void;
  setGenerating(on: boolean): void;
  /** The loaded model's task prompts; [] hides the task buttons. */
  setTasks(tasks: readonly string[]): void;
  /** A message about the last action (refused input); null hides it. */
  notice(message: string | null): void;
  focus(): void;
}

export function composer(images: Attachments, events: ComposerEvents): Composer {
  const input = h('textarea', {
    rows: '2',
    class: 'chat-input',
    placeholder: 'Ask about the images, e.g. "What colour is the circle?"',
    'aria-label': 'Your message',
    'aria-describedby': 'chat-input-hint',
    'data-testid': 'chat-input',
  });
  const send = h('button', { type: 'submit', 'data-testid': 'chat-send' }, 'Send');
  const stop = h('button', { type: 'button', class: 'stop', 'data-testid': 'chat-stop', hidden: '' }, 'Stop');
  const notice = h('p', { class: 'chat-notice', role: 'alert', 'data-testid': 'chat-notice', hidden: '' });
  const phrase = h('input', { type: 'text', placeholder: 'red circle', 'aria-label': 'Object to find', 'data-testid': 'ground-phrase', class: 'ground-phrase' });
  const ask = h('button', { type: 'button', class: 'secondary', 'data-testid': 'ground-ask', title: 'Asks "Locate the … ." and draws the box from the answer' }, 'Where is …?');
  const boxes = h('input', { type: 'checkbox', checked: '', 'data-testid': 'ground-toggle' });
  const clear = h('button', { type: 'button', class: 'secondary', 'data-testid': 'chat-clear' }, 'Clear conversation');
  const taskButtons = TASK_BUTTONS.map((t) => {
    const b = h('button', { type: 'button', class: 'secondary', 'data-testid': 'task-button', 'data-task': t.task, title: t.usesText ? `Sends ${t.task} with the text typed above as the phrase` : `Sends ${t.task}` }, t.label);
    b.addEventListener('click', () => {
      if (generating) return;
      const phraseText = input.value.trim();
      if (t.usesText && !phraseText) {
        notice.hidden = false;
        notice.textContent = 'Type the phrase to ground first, for example "a red square".';
        input.focus();
        return;
      }
      events.send(t.usesText ? `${t.task}${phraseText}` : t.task);
    });
    return b;
  });
  const tasks = h('div', { class: 'toolbar task-buttons', role: 'group', 'aria-label': 'Tasks of the loaded model', 'data-testid': 'task-buttons', hidden: '' }, ...taskButtons);
  const form = h('form', { class: 'composer-row', 'aria-label': 'Send a message' }, input, h('div', { class: 'composer-buttons' }, send, stop));
  let generating = false;

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!generating) events.send(input.value);
  });
  input.addEventListener('keydown', (e) => {
    // An IME composing a word uses Enter to confirm it; that must not send.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    } else if (e.key === 'Escape' && generating) {
      events.stop();
    }
  });
  stop.addEventListener('click', () => events.stop());
  clear.addEventListener('click', () => events.clear());
  boxes.addEventListener('change', () => events.showBoxes(boxes.checked));
  const askWhere = async () => {
    const q = await events.groundingQuestion(phrase.value);
    if (!q) {
      notice.hidden = false;
      notice.textContent = 'Name the object to find first, for example "red circle".';
      phrase.focus();
      return;
    }
    input.value = q;
    form.requestSubmit();
  };
  ask.addEventListener('click', () => void askWhere());
  phrase.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.isComposing) {
      e.preventDefault();
      void askWhere();
    }
  });

  const element = h(
    'section',
    { class: 'panel composer', 'aria-label': 'Compose' },
    images.element,
    tasks,
    form,
    h('p', { class: 'muted composer-hint', id: 'chat-input-hint' }, 'Enter sends, Shift+Enter starts a new line, Escape stops an answer.'),
    notice,
    h(
      'div',
      { class: 'toolbar composer-tools' },
      h('div', { class: 'ground-helper' }, phrase, ask),
      h('label', { class: 'toggle' }, boxes, ' Draw boxes from answers'),
      clear,
    ),
  );

  return {
    element,
    text: () => input.value,
    setText(t) {
      input.value = t;
    },
    setGenerating(on) {
      generating = on;
      send.hidden = on;
      stop.hidden = !on;
      ask.disabled = on;
      for (const b of taskButtons) b.disabled = on;
      clear.disabled = on;
      // Stop takes the focus from Send so a keyboard user can press it at once.
      if (on && document.activeElement === send) stop.focus();
      if (!on && document.activeElement === stop) input.focus();
    },
    setTasks(list) {
      let shown = 0;
      for (const b of taskButtons) {
        b.hidden = !list.includes(b.dataset.task ?? '');
        if (!b.hidden) shown += 1;
      }
      tasks.hidden = shown === 0;
    },
    notice(message) {
      notice.hidden = message === null;
      notice.textContent = message ?? '';
    },
    focus: () => input.focus(),
  };
}
