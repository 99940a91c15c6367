/**
 * Files a person gives the view: picked (one by one or a folder) or dropped
 * (files, a folder read recursively, or a zip), each with its path relative to
 * what was given, since LLaVA JSON names its images by such paths.
 */
import type { FinetuneImage } from '../../worker/client';

/** A picked or dropped file with the path a folder pick or drop gives it (the name alone otherwise). */
export interface GivenFile {
  path: string;
  file: File;
}

/** Files of a picker, hidden ones (.DS_Store and the like) left out. */
export function pickedFiles(list: FileList | null): GivenFile[] {
  return [...(list ?? [])].filter((f) => !f.name.startsWith('.')).map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}

/** Files of a drop, folders read recursively (DataTransfer gives entries, not files, for folders). */
export async function droppedFiles(items: DataTransferItemList): Promise<GivenFile[]> {
  const out: GivenFile[] = [];
  const walk = async (entry: FileSystemEntry | null): Promise<void> => {
    if (!entry || entry.name.startsWith('.')) return;
    if (entry.isFile) {
      const file = await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail));
      out.push({ path: entry.fullPath.replace(/^\//, ''), file });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  // Entries must be taken while the drop event runs; the DataTransfer empties after it.
  const entries = [...items].map((i) => i.webkitGetAsEntry());
  for (const e of entries) await walk(e);
  return out;
}

const IMAGE_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', bmp: 'image/bmp' };

/** The MIME type of an image file, from the browser or else its extension; null when it is not an image. */
export function imageType(file: File): string | null {
  if (file.type.startsWith('image/') && file.type !== 'image/svg+xml') return file.type;
  const ext = file.name.split('.').pop()?.toLowerCase() ?? '';
  return IMAGE_TYPES[ext] ?? null;
}

/** Image files read into the form the worker takes; other files are left out. */
export async function readImages(files: readonly GivenFile[]): Promise<FinetuneImage[]> {
  const out: FinetuneImage[] = [];
  for (const { path, file } of files) {
    const type = imageType(file);
    if (type) out.push({ path, type, bytes: new Uint8Array(await file.arrayBuffer()) });
  }
  return out;
}
