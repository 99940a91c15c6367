import { expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import type { HubServer } from '../test/helpers/hub-server';

/**
 * What the specs on the tiny hub fixtures share: the fixtures' folder, a page
 * that may reach nothing but 127.0.0.1, the words of a fixture's golden
 * answer, and loading a model from the picker pointed at a hub-like server.
 */
export const HUB_DIR = join(process.cwd(), 'test/fixtures/hub');

/** Nothing but 127.0.0.1 may be reached; anything else is refused and its address returned in the list. */
export async function offline(page: Page): Promise<string[]> {
  const blocked: string[] = [];
  await page.context().route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.continue();
    blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  return blocked;
}

export const modelStatus = (page: Page) => page.getByTestId('model-status');

/** A fixture's own tokenizer, read from its folder. */
export function fixtureTokenizer(dir: string) {
  Object.assign(env, { allowLocalModels: true, allowRemoteModels: false, localModelPath: `${HUB_DIR}/` });
  return AutoTokenizer.from_pretrained(dir);
}

/** The golden answer's words as the app shows them: the fixture's tokenizer decoding PyTorch's greedy ids. */
export async function goldenText(dir: string): Promise<string> {
  const golden = JSON.parse(readFileSync(join(HUB_DIR, dir, 'golden.json'), 'utf8')) as { greedy_ids: number[] };
  return (await fixtureTokenizer(dir)).decode(golden.greedy_ids, { skip_special_tokens: true });
}

export interface HubLoad {
  /** A zoo entry picked from the list, or (typed) a repo id typed into the picker. */
  repo: string;
  typed?: boolean;
  /** The engine to switch to; without it the entry's first engine stays, and expectEngine checks which that is. */
  engine?: string;
  expectEngine?: string;
  dtype?: string;
  /** false: the page is already open and its model ready (after a reload, say). */
  open?: boolean;
}

/** Picks (or types) the model, chooses engine and dtype, points the picker at the local hub and presses Load. */
export async function loadFromHub(page: Page, hub: HubServer, load: HubLoad): Promise<void> {
  if (load.open !== false) {
    await page.goto('/');
    await expect(modelStatus(page)).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  }
  if (!load.typed) await page.getByTestId('model-select').selectOption(load.repo);
  if (load.engine) await page.getByTestId('engine-select').selectOption(load.engine);
  if (load.expectEngine) await expect(page.getByTestId('engine-select')).toHaveValue(load.expectEngine);
  if (load.dtype) await page.getByTestId('dtype-select').selectOption(load.dtype);
  await page.getByTestId('hub-source').locator('summary').click();
  await page.getByTestId('hub-url').fill(hub.url);
  if (load.typed) await page.getByTestId('hub-model-id').fill(load.repo);
  await page.getByTestId('load-model').click();
}

/** Attaches the fixture's golden.png in the chat and sends a question about it. */
export async function askAboutGolden(page: Page, dir: string, question: string): Promise<void> {
  const png = readFileSync(join(HUB_DIR, dir, 'golden.png'));
  await page.getByTestId('chat-file-input').setInputFiles([{ name: 'golden.png', mimeType: 'image/png', buffer: png }]);
  await page.getByTestId('chat-input').fill(question);
  await page.getByTestId('chat-input').press('Enter');
}
