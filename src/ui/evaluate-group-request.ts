/**
 * The requests of the MME and multiple-choice benchmarks from the user's
 * files: MME's .txt question files are read here (small), while the images
 * stay in the page until the worker asks for one.
 */
import type { ChoiceRequest, MmeRequest } from '../worker/api';
import { VlmError } from '../worker/client';

export async function mmeRequest(files: ReadonlyMap<string, File>): Promise<MmeRequest> {
  const txt = [...files].filter(([name]) => name.toLowerCase().endsWith('.txt'));
  if (txt.length === 0) throw new VlmError('bad-input', 'Pick the MME folder: a folder per subtask with its images and "question<TAB>Yes|No" .txt files.');
  const questionFiles = await Promise.all(txt.map(async ([name, f]) => ({ name, text: await f.text() })));
  return { benchmark: 'mme', questionFiles, imageNames: [...files.keys()].filter((n) => !n.toLowerCase().endsWith('.txt')) };
}

export async function choiceRequest(files: ReadonlyMap<string, File>, tsv: File | null): Promise<ChoiceRequest> {
  if (!tsv) throw new VlmError('bad-input', 'Choose the MMBench-style TSV (index, question, A, B, ..., answer, image or image_path).');
  return { benchmark: 'choice', data: { name: tsv.name, text: await tsv.text() }, imageNames: [...files.keys()] };
}
