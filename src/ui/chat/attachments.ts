/**
 * Images waiting to go with the next message: added by the file picker, by a
 * drop anywhere on the chat page, or by a paste; shown as thumbnails with a
 * remove button each. Only raster pictures are kept, typed by their first
 * bytes rather than by the name or the browser's guess: an SVG is a document
 * that runs script when its blob is opened, so it is refused here with a
 * message and never reaches a thumbnail, the history or the worker. Whether a
 * raster file really decodes is the worker's call (it answers 'bad-image'
 * naming the file).
 */
import { looksLikeSvg, RASTER_NAMES, rasterImageType } from '../../worker/client';
import { h } from '../dom';
import { newId, type ImageFile } from './conversation';

const IMAGE_EXTENSIONS: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  bmp: 'image/bmp',
};
const ACCEPT = `image/*,${Object.keys(IMAGE_EXTENSIONS)
  .map((e) => `.${e}`)
  .join(',')}`;

/** The image MIME type a file claims, from the browser or else its name; null when it does not claim to be an image. */
export function imageType(file: { name: string; type: string }): string | null {
  if (file.type.startsWith('image/')) return file.type;
  if (file.type) return null;
  const ext = /\.([a-z0-9]+)$/i.exec(file.name)?.[1]?.toLowerCase() ?? '';
  return IMAGE_EXTENSIONS[ext] ?? null;
}

/** What to tell the person about the files that were not added; null when every file was. */
export function refusal(svg: readonly string[], other: readonly string[]): string | null {
  const parts: string[] = [];
  const one = (list: readonly string[]) => list.length === 1;
  if (svg.length) {
    parts.push(`${svg.join(', ')} ${one(svg) ? 'is an SVG drawing' : 'are SVG drawings'}, which can carry script, so ${one(svg) ? 'it was' : 'they were'} not attached. Export ${one(svg) ? 'it' : 'them'} as PNG and attach that.`);
  }
  if (other.length) {
    parts.push(`${other.join(', ')} ${one(other) ? 'is not an image' : 'are not images'} this app reads, so nothing was added from ${one(other) ? 'it' : 'them'}. Attach ${RASTER_NAMES} pictures.`);
  }
  return parts.length ? parts.join(' ') : null;
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

  /** The file as a raster picture typed by its bytes, or why it was refused. */
  async function read(f: File): Promise<ImageFile | 'svg' | 'other'> {
    const claimed = imageType(f);
    const svgByName = f.type === 'image/svg+xml' || /\.svgz?$/i.test(f.name);
    // A file that says it is something else (a video, a text) is refused without reading it all.
    if (!claimed && !svgByName) return 'other';
    const bytes = await f.arrayBuffer();
    const head = new Uint8Array(bytes, 0, Math.min(bytes.byteLength, 4096));
    const type = rasterImageType(head);
    if (!type) return svgByName || looksLikeSvg(head) ? 'svg' : 'other';
    return { id: newId('img'), name: f.name || 'pasted image', type, bytes };
  }

  async function add(files: Iterable<File>): Promise<void> {
    // Copied before the first await: a drop's DataTransfer and the picker's FileList empty themselves afterwards.
    const list = [...files];
    const svg: string[] = [];
    const other: string[] = [];
    const accepted: ImageFile[] = [];
    for (const f of list) {
      const got = await read(f);
      if (got === 'svg') svg.push(f.name || 'a drawing');
      else if (got === 'other') other.push(f.name || 'a file');
      else accepted.push(got);
    }
    push(accepted);
    notify(refusal(svg, other));
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
