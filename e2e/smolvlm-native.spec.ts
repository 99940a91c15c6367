import { expect, test } from '@playwright/test';
import { join } from 'node:path';
import { startHubServer, type HubServer } from '../test/helpers/hub-server';
import { askAboutGolden, goldenText, HUB_DIR, loadFromHub, modelStatus, offline } from './hub-page';

/**
 * SmolVLM on the native WGSL engine in Chromium: the zoo's
 * SmolVLM-256M-Instruct, served by a hub-like server on 127.0.0.1 from the
 * tiny random fixture under the real repo id, is picked, switched to the
 * native engine and loaded through the weight cache (model.safetensors, no
 * ONNX); the chat streams the words of PyTorch's greedy answer for the
 * fixture's 2 x 4-tile image. Nothing leaves 127.0.0.1.
 */
const DIR = 'HuggingFaceTB-tiny-smolvlm';
const REPO = 'HuggingFaceTB/SmolVLM-256M-Instruct';

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
    const want = await goldenText(DIR);
    const status = modelStatus(page);
    await loadFromHub(page, hub, { repo: REPO, engine: 'native' });
    await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    await expect(status).toContainText(REPO);
    const files = hub.gets().map((r) => r.file);
    expect(files).toEqual(expect.arrayContaining(['config.json', 'processor_config.json', 'model.safetensors']));
    expect(files.filter((f) => f.endsWith('.onnx'))).toEqual([]);

    await askAboutGolden(page, DIR, 'Can you describe this image?');
    const answer = page.getByTestId('msg-assistant').first();
    await expect(answer).toHaveAttribute('data-finish', /^(stop|length)$/, { timeout: 60_000 });
    const text = (await answer.getByTestId('answer-text').textContent()) ?? '';
    console.log(`native SmolVLM answered ${JSON.stringify(text.slice(0, 80))}; golden ${JSON.stringify(want)}`);
    expect(text.startsWith(want), `${JSON.stringify(text)} starts with ${JSON.stringify(want)}`).toBe(true);
    expect(blocked).toEqual([]);
  });
});
