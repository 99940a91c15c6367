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
