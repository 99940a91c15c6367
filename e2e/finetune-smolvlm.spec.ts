import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Download } from '@playwright/test';
import { startHubServer, type HubServer } from '../test/helpers/hub-server';
import { askAboutGolden, HUB_DIR, loadFromHub, modelStatus, offline } from './hub-page';

/**
 * Fine-tuning SmolVLM in Chromium: the zoo's SmolVLM-256M-Instruct, served
 * from the tiny random fixture by a hub-like server on 127.0.0.1, is loaded on
 * the native engine; the Fine-tune view trains on it (LLaVA JSON with the
 * fixture's image, 2 steps) and exports PEFT files named by Idefics3's
 * modules (model.text_model.layers.N...), with the repo id as the base;
 * Chat's toggle applies the adapter and answers with and without it.
 */
const DIR = 'HuggingFaceTB-tiny-smolvlm';
const REPO = 'HuggingFaceTB/SmolVLM-256M-Instruct';

function safetensorsKeys(bytes: Buffer): string[] {
  const n = Number(bytes.readBigUInt64LE(0));
  return Object.keys(JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>).filter((k) => k !== '__metadata__');
}

const record = (id: string, question: string, answer: string) => ({
  id,
  image: 'golden.png',
  conversations: [
    { from: 'human', value: `<image>\n${question}` },
    { from: 'gpt', value: answer },
  ],
});

test.describe('fine-tuning SmolVLM on the native engine', () => {
  test.setTimeout(120_000);
  let hub: HubServer;
  test.beforeAll(async () => {
    hub = await startHubServer(join(HUB_DIR, DIR), REPO);
  });
  test.afterAll(async () => {
    await hub?.close();
  });

  test('trains 2 steps on the hub SmolVLM and exports PEFT files with Idefics3 key names', async ({ page }) => {
    const blocked = await offline(page);
    await loadFromHub(page, hub, { repo: REPO, engine: 'native' });
    await expect(modelStatus(page)).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    await expect(modelStatus(page)).toContainText(REPO);

    await page.getByTestId('tab-finetune').click();
    await expect(page.getByTestId('ft-model')).toContainText(`Training on ${REPO}`);
    await page.getByTestId('ft-source-load-tab').click();
    const data = [record('a', 'What is it?', 'A square.'), record('b', 'How many?', 'Two.')];
    await page.getByTestId('ft-load-files').setInputFiles([
      { name: 'train.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(data)) },
      { name: 'golden.png', mimeType: 'image/png', buffer: readFileSync(join(HUB_DIR, DIR, 'golden.png')) },
    ]);
    await expect(page.getByTestId('ft-data-summary')).toHaveAttribute('data-records', '2');
    const settings = { rank: '4', alpha: '8', steps: '2', warmupSteps: '0', batchSize: '1', validationFraction: '0', checkpointEvery: '100', learningRate: '0.01' };
    for (const [field, value] of Object.entries(settings)) await page.getByTestId(`ft-set-${field}`).fill(value);
    await page.getByTestId('ft-start').click();
    await expect(page.getByTestId('ft-outcome')).toContainText('Finished: 2 steps', { timeout: 60_000 });
    await expect(page.getByTestId('ft-fig-loss')).toHaveText(/^\d+\.\d{4}$/);

    const downloads: Download[] = [];
    page.on('download', (d) => downloads.push(d));
    await page.getByTestId('ft-adapter-export').click();
    await expect.poll(() => downloads.length).toBe(2);
    const files = new Map<string, Buffer>();
    for (const d of downloads) files.set(d.suggestedFilename(), readFileSync(await d.path()));
    const config = JSON.parse(files.get('adapter_config.json')?.toString('utf8') ?? '{}') as Record<string, unknown>;
    expect(config).toMatchObject({ peft_type: 'LORA', r: 4, base_model_name_or_path: REPO, modules_to_save: null });
    const keys = safetensorsKeys(files.get('adapter_model.safetensors') ?? Buffer.alloc(16));
    expect(keys).toContain('base_model.model.model.text_model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(keys.every((k) => k.startsWith('base_model.model.model.text_model.layers.'))).toBe(true);

    // Chat's toggle applies it to the loaded SmolVLM; the same question answered with and without it.
    await page.getByTestId('tab-chat').click();
    await expect(page.getByTestId('chat-adapter')).toBeVisible();
    await page.getByTestId('chat-adapter-toggle').check();
    await expect(page.getByTestId('chat-adapter-toggle')).toBeChecked();
    await askAboutGolden(page, DIR, 'What is it?');
    const answer = page.getByTestId('msg-assistant').last();
    await expect(answer).toHaveAttribute('data-finish', /^(stop|length)$/, { timeout: 60_000 });
    await page.getByTestId('chat-compare').click();
    await expect(page.getByTestId('compare-with-text')).not.toBeEmpty({ timeout: 60_000 });
    await expect(page.getByTestId('compare-without-text')).not.toBeEmpty({ timeout: 60_000 });
    await expect(page.getByTestId('chat-adapter-toggle')).toBeChecked();
    expect(blocked).toEqual([]);
  });
});
