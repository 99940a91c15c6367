/**
 * Data written by a teacher for the person's own unlabeled images, as
 * LLaVA's data was written: tasks to ask for, and the teacher, either the
 * model loaded in the page or an OpenAI-compatible endpoint the person names.
 * The key stays in this page's memory (never stored); the page says plainly
 * that the images are sent to that endpoint. Progress, retries and failed
 * images are shown as they come.
 */
import * as Comlink from 'comlink';
import type { FinetuneDataset, FinetuneImage, LlavaRecord, TeacherEvent, TeacherSource, TeacherTask, VlmClient } from '../../worker/client';
import { describeError, toTurnError } from '../chat/error-text';
import { h } from '../dom';
import { pickedFiles, readImages, droppedFiles, type GivenFile } from './dropped-files';

const TASKS: { task: TeacherTask; label: string; on: boolean }[] = [
  { task: 'detailed-description', label: 'Detailed description', on: true },
  { task: 'reasoning', label: 'Reasoning', on: false },
  { task: 'conversation', label: 'Multi-turn conversation', on: false },
  { task: 'story', label: 'Creative story', on: false },
  { task: 'count', label: 'Counts', on: true },
  { task: 'colours', label: 'Colours', on: false },
  { task: 'where', label: 'Where is X', on: false },
  { task: 'grounding', label: 'Grounding (boxes)', on: false },
];

export function teacherSource(api: VlmClient, loaded: (dataset: FinetuneDataset, note: string) => void) {
  const images = h('input', { type: 'file', multiple: '', accept: 'image/*', 'data-testid': 'ft-teacher-images' });
  const folder = h('input', { type: 'file', multiple: '', webkitdirectory: '', 'data-testid': 'ft-teacher-folder' });
  const drop = h('label', { class: 'drop-zone', 'data-testid': 'ft-teacher-drop' }, 'Your images: pick files or a folder, or drop them here', images, folder);
  const chosen = h('p', { class: 'muted', 'data-testid': 'ft-teacher-chosen' }, 'No images chosen.');
  const tasks = TASKS.map((t) => h('input', t.on ? { type: 'checkbox', value: t.task, checked: '', 'data-testid': `ft-teacher-task-${t.task}` } : { type: 'checkbox', value: t.task, 'data-testid': `ft-teacher-task-${t.task}` }));
  const source = h('select', { 'data-testid': 'ft-teacher-source', 'aria-label': 'Teacher' }, h('option', { value: 'loaded-model' }, 'the model loaded in this page (offline)'), h('option', { value: 'endpoint' }, 'an OpenAI-compatible endpoint'));
  const url = h('input', { type: 'url', placeholder: 'http://127.0.0.1:8000/v1/chat/completions', size: '40', 'data-testid': 'ft-teacher-url', 'aria-label': 'Endpoint URL' });
  const model = h('input', { type: 'text', placeholder: 'model name', 'data-testid': 'ft-teacher-model', 'aria-label': 'Model' });
  const key = h('input', { type: 'password', autocomplete: 'off', placeholder: 'API key (optional)', 'data-testid': 'ft-teacher-key', 'aria-label': 'API key' });
  const endpoint = h(
    'div',
    { class: 'ft-endpoint', hidden: '' },
    h('div', { class: 'toolbar' }, h('label', { class: 'field' }, 'URL', url), h('label', { class: 'field' }, 'Model', model), h('label', { class: 'field' }, 'Key', key)),
    h('p', { class: 'notice ft-warning', 'data-testid': 'ft-teacher-warning' }, 'Your images leave the browser: each one is sent to this endpoint with the prompts. The key is kept in this page’s memory only and is gone on reload.'),
  );
  const go = h('button', { type: 'button', 'data-testid': 'ft-teacher-write' }, 'Write the data');
  const bar = h('progress', { max: '1', value: '0', 'data-testid': 'ft-teacher-progress' });
  const status = h('p', { class: 'muted', role: 'status', 'data-testid': 'ft-teacher-status' });
  const log = h('ul', { class: 'ft-log', 'data-testid': 'ft-teacher-log' });
  const element = h(
    'div',
    { class: 'ft-source', 'data-testid': 'ft-source-teacher' },
    drop,
    chosen,
    h('fieldset', { class: 'ft-targets' }, h('legend', {}, 'Tasks'), ...tasks.map((t, i) => h('label', { class: 'toggle' }, t, ` ${TASKS[i]?.label ?? t.value}`))),
    h('label', { class: 'field' }, 'Teacher', source),
    endpoint,
    h('div', { class: 'toolbar' }, go, h('div', { class: 'progress-row' }, bar)),
    status,
    log,
  );
  let given: GivenFile[] = [];
  const choose = (files: GivenFile[]) => {
    given = files;
    chosen.textContent = `${files.length} file(s) chosen.`;
  };
  images.addEventListener('change', () => choose(pickedFiles(images.files)));
  folder.addEventListener('change', () => choose(pickedFiles(folder.files)));
  drop.addEventListener('dragover', (e) => e.preventDefault());
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    if (e.dataTransfer) void droppedFiles(e.dataTransfer.items).then(choose);
  });
  source.addEventListener('change', () => {
    endpoint.hidden = source.value !== 'endpoint';
  });

  const teacher = (): TeacherSource | string => {
    if (source.value !== 'endpoint') return { kind: 'loaded-model' };
    const u = url.value.trim();
    if (!/^https?:\/\//.test(u)) return 'Give the endpoint URL, starting with http:// or https://.';
    if (!model.value.trim()) return 'Give the model name the endpoint serves.';
    return { kind: 'endpoint', url: u, model: model.value.trim(), ...(key.value ? { apiKey: key.value } : {}) };
  };

  const onEvent = (ev: TeacherEvent) => {
    if (ev.kind === 'record') {
      bar.value = ev.total > 0 ? ev.done / ev.total : 0;
      status.textContent = `Written ${ev.done} / ${ev.total}`;
      return;
    }
    const text = ev.kind === 'retry' ? `Retry ${ev.attempt} for ${ev.image} in ${Math.round(ev.delayMs / 100) / 10} s: ${ev.reason}` : `Skipped ${ev.image}: ${ev.reason}`;
    log.append(h('li', { class: ev.kind === 'failed' ? 'bad' : 'muted', 'data-testid': `ft-teacher-${ev.kind}` }, text));
  };

  const write = async () => {
    const src = teacher();
    const chosenTasks = tasks.filter((t) => t.checked).map((t) => t.value as TeacherTask);
    const problem = typeof src === 'string' ? src : given.length === 0 ? 'Choose your images first.' : chosenTasks.length === 0 ? 'Tick at least one task.' : null;
    if (problem || typeof src === 'string') {
      status.className = 'bad';
      status.textContent = problem;
      return;
    }
    const imgs: FinetuneImage[] = await readImages(given);
    if (imgs.length === 0) {
      status.className = 'bad';
      status.textContent = 'None of the chosen files is a PNG, JPEG, WebP, GIF or BMP image.';
      return;
    }
    go.disabled = true;
    log.replaceChildren();
    status.className = 'muted';
    status.textContent = `Writing for ${imgs.length} image(s)…`;
    try {
      const records: LlavaRecord[] = await api.teacherWrite({ images: imgs, tasks: chosenTasks, source: src }, Comlink.proxy(onEvent));
      const failed = log.querySelectorAll('[data-testid="ft-teacher-failed"]').length;
      status.textContent = `Wrote ${records.length} record(s) for ${imgs.length - failed} image(s)${failed ? `; ${failed} image(s) skipped (listed below)` : ''}. Review the answers in the table.`;
      const used = new Set(records.flatMap((r) => (typeof r.image === 'string' ? [r.image] : (r.image ?? []))));
      loaded({ name: 'teacher-data', records, images: imgs.filter((i) => used.has(i.path)) }, src.kind === 'endpoint' ? `Written by ${src.model}` : 'Written by the loaded model');
    } catch (err) {
      const d = describeError(toTurnError(err));
      status.className = 'bad';
      status.textContent = `${d.headline} ${d.detail} ${d.advice}`;
    } finally {
      go.disabled = false;
    }
  };
  go.addEventListener('click', () => void write());
  return { element };
}
