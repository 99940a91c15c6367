/**
 * LLaVA JSON with its images from the person's disk: several files, a folder,
 * or a zip, picked or dropped. The reader (src/data/llava-files.ts, through
 * the client) checks every record; the good ones become the data set, and
 * each bad one is listed by file, line and record index with the reason, as
 * is each image a record names that was not given.
 */
import { readLlavaFiles, type FinetuneDataset, type LlavaFileProblem, type LlavaInputFile } from '../../worker/client';
import { h } from '../dom';
import { droppedFiles, pickedFiles, type GivenFile } from './dropped-files';

export function problemText(p: LlavaFileProblem): string {
  const where = [p.file, p.line !== undefined ? `line ${p.line}` : null, p.record !== undefined ? `record ${p.record}` : null].filter(Boolean).join(', ');
  return where ? `${where}: ${p.reason}` : p.reason;
}

/** The image paths records named that were not among the files (the reader words them `image "x" was not found`). */
function missingImages(problems: readonly LlavaFileProblem[]): string[] {
  const names = problems.flatMap((p) => {
    const m = /^image ("(?:[^"\\]|\\.)*") was not found$/.exec(p.reason);
    return m?.[1] ? [JSON.parse(m[1]) as string] : [];
  });
  return [...new Set(names)];
}

async function readAll(given: readonly GivenFile[]): Promise<LlavaInputFile[]> {
  return Promise.all(given.map(async (g) => ({ path: g.path, bytes: new Uint8Array(await g.file.arrayBuffer()) })));
}

export function loadSource(loaded: (dataset: FinetuneDataset, note: string) => void) {
  const files = h('input', { type: 'file', multiple: '', accept: '.json,.jsonl,.zip,image/*', 'data-testid': 'ft-load-files' });
  const folder = h('input', { type: 'file', multiple: '', webkitdirectory: '', 'data-testid': 'ft-load-folder' });
  const drop = h(
    'div',
    { class: 'drop-zone', 'data-testid': 'ft-load-drop' },
    'Drop a folder, files or a zip here (the LLaVA JSON and the images it names), or pick:',
    h('label', { class: 'field' }, 'Files or a zip', files),
    h('label', { class: 'field' }, 'A folder', folder),
  );
  const status = h('p', { class: 'muted', role: 'status', 'data-testid': 'ft-load-status' });
  const problems = h('ul', { class: 'ft-problems', 'data-testid': 'ft-load-problems', hidden: '' });
  const missing = h('p', { class: 'bad', 'data-testid': 'ft-load-missing', hidden: '' });
  const element = h('div', { class: 'ft-source', 'data-testid': 'ft-source-load' }, drop, status, problems, missing);

  const read = async (given: GivenFile[]) => {
    if (given.length === 0) return;
    status.className = 'muted';
    status.textContent = `Reading ${given.length} file(s)…`;
    problems.hidden = true;
    missing.hidden = true;
    try {
      const result = readLlavaFiles(await readAll(given));
      const bad = result.problems;
      const missed = missingImages(bad);
      problems.hidden = bad.length === 0;
      const more = bad.length > 200 ? [h('li', {}, `… and ${bad.length - 200} more`)] : [];
      problems.replaceChildren(...bad.slice(0, 200).map((p) => h('li', { 'data-testid': 'ft-load-problem' }, problemText(p))), ...more);
      missing.hidden = missed.length === 0;
      missing.textContent = `${missed.length} image(s) named by the records were not given: ${missed.slice(0, 20).join(', ')}${missed.length > 20 ? ', …' : ''}. Records that need them are left out.`;
      const n = result.dataset.records.length;
      status.className = n > 0 ? 'ok' : 'bad';
      status.textContent =
        n > 0
          ? `${result.dataset.name}: ${n} record(s) ready, ${result.dataset.images.length} image(s)${bad.length ? `, ${bad.length} problem(s) listed below (those records are left out)` : ''}.`
          : `No usable record in ${given.map((g) => g.path).join(', ')}: the problems are listed below; the data set below is unchanged.`;
      if (n > 0) loaded(result.dataset, `Loaded from ${result.dataset.name}`);
    } catch (err) {
      status.className = 'bad';
      status.textContent = `The files could not be read: ${err instanceof Error ? err.message : String(err)}`;
    }
  };
  files.addEventListener('change', () => void read(pickedFiles(files.files)));
  folder.addEventListener('change', () => void read(pickedFiles(folder.files)));
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer) void droppedFiles(e.dataTransfer.items).then(read);
  });
  return { element };
}
