import type { GpuInfo } from '../worker/api';
import { h } from './dom';

function mib(bytes: number): string {
  return bytes >= 1 << 30 ? `${(bytes / (1 << 30)).toFixed(1)} GiB` : `${Math.round(bytes / (1 << 20))} MiB`;
}

export function showAdapter(bar: HTMLElement, info: GpuInfo): void {
  const { features, limits } = info.report;
  const yesNo = (v: boolean) => (v ? 'yes' : 'no');
  bar.replaceChildren(
    h('span', { class: 'chip', 'data-testid': 'adapter-name' }, `WebGPU: ${info.name}`),
    h('span', { class: 'chip' }, `shader-f16: ${yesNo(features['shader-f16'])}`),
    h('span', { class: 'chip' }, `subgroups: ${yesNo(features.subgroups)}`),
    h('span', { class: 'chip' }, `timestamp-query: ${yesNo(features['timestamp-query'])}`),
    h('span', { class: 'chip' }, `max binding: ${mib(limits.maxStorageBufferBindingSize)}`),
  );
  bar.title = JSON.stringify(info.report, null, 1);
}

export function showUnavailable(bar: HTMLElement, reason: string): void {
  bar.replaceChildren(h('span', { class: 'chip bad', 'data-testid': 'adapter-name' }, `WebGPU unavailable: ${reason}`));
}

/**
 * The engine's state after its worker died: a chip beside the adapter's (or
 * in place of "Starting the engine…" when it never started). `restarted`
 * says a fresh worker was started; otherwise the page must be reloaded.
 */
export function showEngineStopped(bar: HTMLElement, failedToStart: boolean, restarted: boolean): void {
  const what = failedToStart ? 'Engine failed to start' : 'Engine stopped';
  const text = restarted ? `${what}; starting a fresh one…` : `${what}: reload the page`;
  const chip = h('span', { class: 'chip bad', 'data-testid': 'engine-state', 'data-restarted': String(restarted) }, text);
  bar.querySelector('[data-testid="engine-state"]')?.remove();
  if (bar.querySelector('[data-testid="adapter-name"]')) bar.append(chip);
  else bar.replaceChildren(chip);
}

/** A restarted worker is up: the chip says the engine runs again (the model still has to be loaded). */
export function showEngineRestarted(bar: HTMLElement): void {
  const chip = bar.querySelector('[data-testid="engine-state"]');
  if (!chip) return;
  chip.className = 'chip';
  chip.textContent = 'Engine restarted: load the model again';
}
