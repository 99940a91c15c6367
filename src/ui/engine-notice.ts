/**
 * The notice above every view when the engine worker died: what happened,
 * that nothing the person had is lost, and the one thing to do next (load
 * the model again, or reload the page when the worker would not start).
 */
import type { CrashReport } from '../worker/client';
import { h } from './dom';

export function engineNotice(report: CrashReport, reloadModel: () => void): HTMLElement {
  const failed = report.kind === 'failed-to-start';
  const kept = 'Your conversation and cached models are kept.';
  const next = report.restarted ? 'A fresh engine was started; the model has to be loaded again.' : '';
  const button = report.restarted
    ? h('button', { type: 'button', 'data-testid': 'engine-reload-model' }, 'Reload the model')
    : h('button', { type: 'button', 'data-testid': 'engine-reload-page' }, 'Reload the page');
  const notice = h(
    'section',
    { class: 'panel notice', role: 'alert', 'data-testid': 'engine-notice', 'data-kind': report.kind, 'data-restarted': String(report.restarted) },
    h('h2', {}, failed ? 'The engine failed to start' : 'The engine stopped'),
    h('p', { 'data-testid': 'engine-notice-text' }, [report.message, kept, next].filter(Boolean).join(' ')),
    button,
  );
  button.addEventListener('click', () => {
    if (!report.restarted) {
      location.reload();
      return;
    }
    notice.remove();
    reloadModel();
  });
  return notice;
}
