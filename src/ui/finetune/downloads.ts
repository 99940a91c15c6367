/**
 * What the view hands to the person as files: the training data as LLaVA
 * JSON (alone, and as a zip with its images under the paths the records
 * name) and PEFT's two adapter files.
 */
import { zipSync } from 'fflate';
import { datasetFileStem, serialiseLlava, type FinetuneDataset, type PeftFiles } from '../../worker/client';
import { h } from '../dom';

export function download(name: string, type: string, body: BlobPart): void {
  const url = URL.createObjectURL(new Blob([body], { type }));
  h('a', { href: url, download: name }).click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function downloadLlavaJson(dataset: FinetuneDataset): void {
  download(`${datasetFileStem(dataset.name)}.json`, 'application/json', serialiseLlava(dataset.records));
}

/**
 * The JSON beside its images under the paths the records name, as the loader
 * reads a zip back. Images are stored, not compressed (PNG, JPEG and WebP already are).
 */
export function downloadLlavaZip(dataset: FinetuneDataset): void {
  const stem = datasetFileStem(dataset.name);
  const entries: Record<string, Uint8Array | [Uint8Array, { level: 0 }]> = { [`${stem}.json`]: new TextEncoder().encode(serialiseLlava(dataset.records)) };
  for (const img of dataset.images) entries[img.path] = [img.bytes, { level: 0 }];
  download(`${stem}.zip`, 'application/zip', zipSync(entries).slice().buffer);
}

export function downloadPeft(files: PeftFiles): void {
  download('adapter_config.json', 'application/json', files.adapterConfig);
  download('adapter_model.safetensors', 'application/octet-stream', files.safetensors.slice().buffer);
}
