import { readFileSync } from 'node:fs';
import { expect, test, type Download, type Page } from '@playwright/test';
import { encodePng } from '../src/data/png';
import { createRaster } from '../src/data/raster';

const png = (r: number) => Buffer.from(encodePng(createRaster(32, 24, [r, 120, 200])));

const record = (id: string, image: string, answer: string) => ({
  id,
  image,
  conversations: [
    { from: 'human', value: '<image>\nWhat colour is the shape?' },
    { from: 'gpt', value: answer },
  ],
  task: 'vqa-colour',
});

async function openFinetune(page: Page): Promise<void> {
  await page.goto('/#finetune');
  await expect(page.getByTestId('finetune-page')).toBeVisible();
}

test('LLaVA JSON: a malformed record is named by index and reason, a missing image by path, the good records previewed and editable', async ({ page }) => {
  await openFinetune(page);
  await page.getByTestId('ft-source-load-tab').click();
  const data = [record('ok-1', 'images/a.png', 'red'), { id: 'bad-1', image: 'images/a.png', conversations: [{ from: 'gpt', value: 'x' }] }, record('gone-1', 'images/missing.png', 'blue')];
  await page.getByTestId('ft-load-files').setInputFiles([
    // One record per line, as LLaVA JSON is usually written: record 1 starts on line 3.
    { name: 'train.json', mimeType: 'application/json', buffer: Buffer.from(`[\n${data.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`) },
    { name: 'a.png', mimeType: 'image/png', buffer: png(200) },
  ]);
  const problems = page.getByTestId('ft-load-problem');
  await expect(problems).toHaveCount(2);
  await expect(problems.nth(0)).toHaveText('train.json, line 3, record 1: conversations[0].from must be "human", got "gpt"');
  await expect(problems.nth(1)).toHaveText('train.json, line 4, record 2: image "images/missing.png" was not found');
  await expect(page.getByTestId('ft-load-missing')).toContainText('images/missing.png');
  await expect(page.getByTestId('ft-data-summary')).toHaveAttribute('data-records', '1');
  await expect(page.getByTestId('ft-record')).toHaveCount(1);
  await expect(page.getByTestId('ft-record').locator('img')).toBeVisible();
  await page.getByTestId('ft-answer').fill('crimson');
  await page.getByTestId('ft-answer').blur();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ft-download-json').click()]);
  const saved = JSON.parse(readFileSync(await download.path(), 'utf8')) as { conversations: { value: string }[] }[];
  expect(saved).toHaveLength(1);
  expect(saved[0]?.conversations[1]?.value).toBe('crimson');

  // A file that is not JSON at all names its line.
  await page.getByTestId('ft-load-files').setInputFiles([{ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('[\n{"id": "x",\n oops}\n]') }]);
  await expect(page.getByTestId('ft-load-problem').first()).toContainText('broken.json, line 3');

  // Settings are checked before a run, each problem beside the form.
  await page.getByTestId('ft-set-rank').fill('0');
  await page.getByTestId('ft-set-learningRate').fill('fast');
  await page.getByTestId('ft-start').click();
  await expect(page.getByTestId('ft-settings-problems')).toContainText('Rank must be at least 1 and at most 256 (got 0).');
  await expect(page.getByTestId('ft-settings-problems')).toContainText('Learning rate must be a number (got "fast").');
  await expect(page.getByTestId('ft-set-rank')).toHaveAttribute('aria-invalid', 'true');

  // With the settings right and no model loaded, Start says what is missing and offers the bundled model.
  await page.getByTestId('ft-set-rank').fill('4');
  await page.getByTestId('ft-set-learningRate').fill('0.001');
  await page.getByTestId('ft-start').click();
  await expect(page.getByTestId('ft-settings-problems')).toBeHidden();
  await expect(page.getByTestId('ft-train-error')).toContainText('No model to train.');
  await expect(page.getByTestId('ft-load-model')).toBeVisible();
  await page.screenshot({ path: test.info().outputPath('finetune-view.png'), fullPage: true });
});

/** The header of a safetensors file: an 8-byte little-endian length, then JSON. */
function safetensorsKeys(bytes: Buffer): string[] {
  const n = Number(bytes.readBigUInt64LE(0));
  return Object.keys(JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>).filter((k) => k !== '__metadata__');
}

const stepOf = async (page: Page) => Number((await page.getByTestId('ft-fig-step').textContent())?.split(' / ')[0] ?? 0);

test('generate 12 records, train with live curves, pause, reload and resume, export PEFT, then the LoRA toggle in Chat', async ({ page }) => {
  test.setTimeout(240_000);
  await openFinetune(page);
  await page.getByTestId('ft-load-model').click();
  await expect(page.getByTestId('ft-model')).toContainText('Training on webvlm-tiny', { timeout: 60_000 });

  for (const [task, n] of [['describe', 0], ['vqa-colour', 6], ['vqa-shape', 6]] as const) await page.getByTestId(`ft-gen-count-${task}`).fill(String(n));
  await page.getByTestId('ft-gen-held-out').selectOption('focus');
  await page.getByTestId('ft-generate').click();
  await expect(page.getByTestId('ft-data-summary')).toHaveAttribute('data-records', '12', { timeout: 30_000 });
  await expect(page.getByTestId('ft-record')).toHaveCount(12);

  const settings = { rank: '4', alpha: '8', steps: '5', warmupSteps: '1', batchSize: '1', validationFraction: '0.1', validateEvery: '2', checkpointEvery: '1', learningRate: '0.001' };
  for (const [field, value] of Object.entries(settings)) await page.getByTestId(`ft-set-${field}`).fill(value);
  await page.getByTestId('ft-start').click();
  await expect(page.getByTestId('ft-fig-step')).toHaveText(/^[1-9] \/ 5$/, { timeout: 60_000 });
  const first = await stepOf(page);
  await expect.poll(() => stepOf(page), { timeout: 60_000 }).toBeGreaterThan(first);
  await expect(page.getByTestId('ft-fig-loss')).toHaveText(/^\d+\.\d{4}$/);
  await expect(page.getByTestId('ft-fig-tps')).toHaveText(/^\d+\.\d$/);

  await page.getByTestId('ft-pause').click();
  await expect(page.getByTestId('ft-outcome')).toContainText('Paused at step', { timeout: 60_000 });
  const paused = await stepOf(page);
  expect(paused).toBeLessThan(5);
  await expect(page.getByTestId('ft-checkpoint')).toContainText(`Checkpoint saved at step ${paused}`);

  // A reload offers the saved run with its curve so far; it continues once the base model is loaded again.
  await page.reload();
  await expect(page.getByTestId('ft-resume')).toHaveText(`Resume from step ${paused}`, { timeout: 30_000 });
  await expect(page.getByTestId('ft-saved')).toContainText(`stopped at step ${paused} of 5`);
  await expect(page.getByTestId('ft-chart-canvas')).toHaveAttribute('data-train-points', String(paused));
  await page.getByTestId('ft-load-model').click();
  await expect(page.getByTestId('ft-model')).toContainText('Training on webvlm-tiny', { timeout: 60_000 });
  await page.getByTestId('ft-resume').click();
  await expect(page.getByTestId('ft-outcome')).toContainText('Finished: 5 steps', { timeout: 90_000 });
  await expect(page.getByTestId('ft-fig-step')).toHaveText('5 / 5');
  const canvas = page.getByTestId('ft-chart-canvas');
  await expect(canvas).toHaveAttribute('data-train-points', '5');
  expect(Number(await canvas.getAttribute('data-validation-points'))).toBeGreaterThan(0);
  const shot = test.info().outputPath('finetune-curves.png');
  await page.getByTestId('ft-training').screenshot({ path: shot });
  await test.info().attach('training curves', { path: shot, contentType: 'image/png' });

  await expect(page.getByTestId('ft-adapter-state')).toContainText('rank 4');
  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await page.getByTestId('ft-adapter-export').click();
  await expect.poll(() => downloads.length).toBe(2);
  const files = new Map<string, Buffer>();
  for (const d of downloads) files.set(d.suggestedFilename(), readFileSync(await d.path()));
  const config = JSON.parse(files.get('adapter_config.json')?.toString('utf8') ?? '{}') as { peft_type?: string; r?: number };
  expect(config.peft_type).toBe('LORA');
  expect(config.r).toBe(4);
  const keys = safetensorsKeys(files.get('adapter_model.safetensors') ?? Buffer.alloc(16));
  expect(keys.some((k) => k.endsWith('q_proj.lora_A.weight'))).toBe(true);

  // The same files back in: refused when they name another base, taken as they are.
  const weights = files.get('adapter_model.safetensors') ?? Buffer.alloc(0);
  const peft = (cfg: object) => [
    { name: 'adapter_config.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(cfg)) },
    { name: 'adapter_model.safetensors', mimeType: 'application/octet-stream', buffer: weights },
  ];
  await page.getByTestId('ft-adapter-import').setInputFiles(peft({ ...config, base_model_name_or_path: 'another/model' }));
  await expect(page.getByTestId('ft-adapter-error')).toContainText('another/model');
  await expect(page.getByTestId('ft-adapter-message')).toContainText('Import an adapter made for the loaded model');
  await page.getByTestId('ft-adapter-import').setInputFiles(peft(config));
  await expect(page.getByTestId('ft-adapter-message')).toContainText('Imported');
  await expect(page.getByTestId('ft-adapter-state')).toContainText('Imported:');

  await page.goto('/#chat');
  await expect(page.getByTestId('chat-adapter')).toBeVisible({ timeout: 60_000 });
  await page.getByTestId('chat-adapter-toggle').check();
  await expect(page.getByTestId('chat-adapter-toggle')).toBeChecked();
  await page.getByTestId('chat-file-input').setInputFiles({ name: 'shape.png', mimeType: 'image/png', buffer: png(120) });
  await page.getByTestId('chat-input').fill('What colour is the shape?');
  await page.getByTestId('chat-send').click();
  const answer = page.getByTestId('msg-assistant').last();
  await expect(answer).toHaveAttribute('data-finish', /stop|length/, { timeout: 60_000 });
  await expect(answer.getByTestId('answer-text')).not.toBeEmpty();
  await page.getByTestId('chat-compare').click();
  await expect(page.getByTestId('compare-with-text')).not.toBeEmpty({ timeout: 60_000 });
  await expect(page.getByTestId('compare-without-text')).not.toBeEmpty({ timeout: 60_000 });
  await expect(page.getByTestId('chat-adapter-toggle')).toBeChecked();
});

test('Teacher: the loaded model writes records for the person’s own images; an endpoint is opt-in with a plain warning', async ({ page }) => {
  test.setTimeout(120_000);
  await openFinetune(page);
  await page.getByTestId('ft-load-model').click();
  await expect(page.getByTestId('ft-model')).toContainText('Training on webvlm-tiny', { timeout: 60_000 });
  await page.getByTestId('ft-source-teacher-tab').click();
  await page.getByTestId('ft-teacher-source').selectOption('endpoint');
  await expect(page.getByTestId('ft-teacher-warning')).toContainText('Your images leave the browser');
  await page.getByTestId('ft-teacher-write').click();
  await expect(page.getByTestId('ft-teacher-status')).toHaveText('Give the endpoint URL, starting with http:// or https://.');
  await page.getByTestId('ft-teacher-source').selectOption('loaded-model');
  await expect(page.getByTestId('ft-teacher-warning')).toBeHidden();

  await page.getByTestId('ft-teacher-images').setInputFiles([
    { name: 'mine-1.png', mimeType: 'image/png', buffer: png(30) },
    { name: 'mine-2.png', mimeType: 'image/png', buffer: png(220) },
  ]);
  await page.getByTestId('ft-teacher-task-detailed-description').uncheck();
  await page.getByTestId('ft-teacher-task-count').check();
  await page.getByTestId('ft-teacher-write').click();
  await expect(page.getByTestId('ft-teacher-status')).toContainText('Wrote 2 record(s) for 2 image(s)', { timeout: 90_000 });
  await expect(page.getByTestId('ft-data-summary')).toHaveAttribute('data-records', '2');
  await expect(page.getByTestId('ft-record')).toHaveCount(2);
  await expect(page.getByTestId('ft-record').first().locator('img')).toBeVisible();
  await expect(page.getByTestId('ft-answer').first()).not.toHaveValue('');
});
