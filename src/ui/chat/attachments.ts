/**
 * Images waiting to go with the next message: added by the file picker, by a
 * drop anywhere on the chat page, or by a paste; shown as thumbnails with a
 * remove button each. Files that are not images are refused here with a
 * message and change nothing; whether an image file really decodes is the
 * worker's call (it answers 'bad-image' naming the file).
 */
import { h } from '../dom';
import { newId, type ImageFile } from './conversation';

const IMAGE_EXTENSIONS: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  bmp: 'image/bmp',
  avif: 'image/avif',
};
const ACCEPT = `image/*,${Object.keys(IMAGE_EXTENSIONS)
  .map((e) => `.${e}`)
  .join(',')}`;

/** The image MIME type of a file, from the browser or else its name; null when it is not an image. */
export function imageType(file: { name: string; type: string }): string | null {
  if (file.type.startsWith('image/')) return file.type;
  if (file.type) return null;
  const ext = /\.([a-z0-9]+)$/i.exec(file.name)?.[1]?.toLowerCase() ?? '';
  return IMAGE_EXTENSIONS[ext] ?? null;
}

export interface Attachments {
  /** The picker, the drop target and the thumbnails. */
  element: HTMLElement;
  add(files: Iterable<File>): Promise<void>;
  /** The pending images, in order; the tray is emptied. */
  take(): ImageFile[];
  /** Puts images back (a message that could not be sent). */
  restore(files: ImageFile[]): void;
  count(): number;
  /** Highlights the drop target while something is dragged over the page. */
  setDragOver(over: boolean): void;
}

export function attachments(notify: (message: string | null) => void): Attachments {
  let pending: { file: ImageFile; url: string }[] = [];
  const input = h('input', { type: 'file', accept: ACCEPT, multiple: '', class: 'visually-hidden', 'data-testid': 'chat-file-input' });
  const drop = h(
    'label',
    { class: 'drop-zone chat-drop', 'data-testid': 'chat-drop', tabindex: '-1' },
    h('span', {}, 'Drop or paste images here, or '),
    h('span', { class: 'link-like' }, 'choose files'),
    input,
  );
  const strip = h('div', { class: 'thumb-strip attachments', 'data-testid': 'attachments', 'aria-label': 'Images for the next message' });

  function render(): void {
    strip.replaceChildren(
      ...pending.map(({ file, url }) => {
        const remove = h('button', { type: 'button', class: 'thumb-remove', 'aria-label': `Remove ${file.name}`, title: `Remove ${file.name}`, 'data-testid': 'attachment-remove' }, '×');
        remove.addEventListener('click', () => {
          URL.revokeObjectURL(url);
          pending = pending.filter((p) => p.file.id !== file.id);
          render();
          input.focus();
        });
        return h('figure', { class: 'attachment', 'data-testid': 'attachment', 'data-name': file.name }, h('img', { src: url, alt: file.name }), remove);
      }),
    );
    strip.hidden = pending.length === 0;
  }

  function push(files: ImageFile[]): void {
    for (const file of files) pending.push({ file, url: URL.createObjectURL(new Blob([file.bytes], { type: file.type })) });
    render();
  }

  async function add(files: Iterable<File>): Promise<void> {
    // Copied before the first await: a drop's DataTransfer and the picker's FileList empty themselves afterwards.
    const list = [...files];
    const refused: string[] = [];
    const accepted: ImageFile[] = [];
    for (const f of list) {
      const type = imageType(f);
      if (!type) {
        refused.push(f.name || 'a file');
        continue;
      }
      accepted.push({ id: newId('img'), name: f.name || 'pasted image', type, bytes: await f.arrayBuffer() });
    }
    push(accepted);
    notify(refused.length ? `${refused.join(', ')} ${refused.length === 1 ? 'is not an image' : 'are not images'}, so nothing was added from ${refused.length === 1 ? 'it' : 'them'}. Attach PNG, JPEG, WebP, GIF or BMP pictures.` : null);
  }

  input.addEventListener('change', () => {
    void add(input.files ?? []);
    input.value = '';
  });
  render();

  return {
    element: h('div', { class: 'attach-area' }, drop, strip),
    add,
    take() {
      const files = pending.map((p) => p.file);
      for (const p of pending) URL.revokeObjectURL(p.url);
      pending = [];
      render();
      return files;
    },
    restore: push,
    count: () => pending.length,
    setDragOver: (over) => drop.classList.toggle('over', over),
  };
}
