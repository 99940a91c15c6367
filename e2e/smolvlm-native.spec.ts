import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { startHubServer, type HubServer } from '../test/helpers/hub-server';

/**
 * SmolVLM on the native WGSL engine in Chromium: the zoo's
 * SmolVLM-256M-Instruct, served by a hub-like server on 127.0.0.1 from the
 * tiny random fixture under the real repo id, is picked, switched to the
 * native engine and loaded through the weight cache (model.safetensors, no
 * ONNX); the chat streams the words of PyTorch's greedy answer for the
 * fixture's 2 x 4-tile image. Nothing leaves 127.0.0.1.
 */
const HUB_DIR = join(process.cwd(), 'test/fixtures/hub');
const DIR = 'HuggingFaceTB-tiny-smolvlm';
const REPO = 'HuggingFaceTB/SmolVLM-256M-Instruct';

async function goldenText(): Promise<string> {
  Object.assign(env, { allowLocalModels: true, allowRemoteModels: false, localModelPath: `${HUB_DIR}/` });
  const golden = JSON.parse(readFileSync(join(HUB_DIR, DIR, 'golden.json'), 'utf8')) as { greedy_ids: number[] };
  return (await AutoTokenizer.from_pretrained(DIR)).decode(golden.greedy_ids, { skip_special_tokens: true });
}

async function offline(page: Page): Promise<string[]> {
  const blocked: string[] = [];
  await page.context().route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.continue();
    blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  return blocked;
}

test.describe('SmolVLM on the native engine', () => {
  test.setTimeout(120_000);
  let hub: HubServer;
  test.beforeAll(async () => {
    hub = await startHubServer(join(HUB_DIR, DIR), REPO);
  });
  test.afterAll(async () => {
    await hub?.close();
  });

  test("the zoo's SmolVLM loads natively from the hub's safetensors and streams PyTorch's greedy answer", async ({ page }) => {
    const blocked = await offline(page);
    const want = await goldenText();
    const status = page.getByTestId('model-status');
    await page.goto('/');
    await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    await page.getByTestId('model-select').selectOption(REPO);
    await page.getByTestId('engine-select').selectOption('native');
    await page.getByTestId('hub-source').locator('summary').click();
    await page.getByTestId('hub-url').fill(hub.url);
    await page.getByTestId('load-model').click();
    await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    await expect(status).toContainText(REPO);
    const files = hub.gets().map((r) => r.file);
    expect(files).toEqual(expect.arrayContaining(['config.json', 'processor_config.json', 'model.safetensors']));
    expect(files.filter((f) => f.endsWith('.onnx'))).toEqual([]);

    const png = readFileSync(join(HUB_DIR, DIR, 'golden.png'));
    await page.getByTestId('chat-file-input').setInputFiles([{ name: 'golden.png', mimeType: 'image/png', buffer: png }]);
    await page.getByTestId('chat-input').fill('Can you describe this image?');
    await page.getByTestId('chat-input').press('Enter');
    const answer = page.getByTestId('msg-assistant').first();
    await expect(answer).toHaveAttribute('data-finish', /^(stop|length)$/, { timeout: 60_000 });
    const text = (await answer.getByTestId('answer-text').textContent()) ?? '';
    console.log(`native SmolVLM answered ${JSON.stringify(text.slice(0, 80))}; golden ${JSON.stringify(want)}`);
    expect(text.startsWith(want), `${JSON.stringify(text)} starts with ${JSON.stringify(want)}`).toBe(true);
    expect(blocked).toEqual([]);
  });
});
