import { expect, test, type Page } from '@playwright/test';
import { encodePng, generateScene, type SceneImage } from '../src/data/index';
import { Rng } from '../src/data/random';
import { iou, parseGrounding } from '../src/models/grounding';

/**
 * The Chat view driven as a person would: drop a generated scene, ask, stop,
 * reload. The scene and its true answers come from src/data, the same
 * generator the bundled model was trained on. Seed 100 (one medium red
 * square) is a scene the current webvlm-tiny answers correctly; the answers
 * are printed so a retrained model can be judged against them.
 */
const SCENE_SEED = 100;

interface FileSpec {
  name: string;
  type: string;
  base64: string;
}

function scene(seed = SCENE_SEED, objects = 1): { image: SceneImage; file: FileSpec } {
  const image = generateScene(new Rng(seed), { minObjects: objects, maxObjects: objects });
  return { image, file: { name: `scene-${seed}.png`, type: 'image/png', base64: Buffer.from(encodePng(image.raster)).toString('base64') } };
}

/** Nothing but the local server may be reached; anything else is recorded and refused. */
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

async function openChat(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('chat-page')).toBeVisible();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
}

/** Drops files on the drop zone the way a browser does: a DataTransfer with File objects. */
async function drop(page: Page, files: FileSpec[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle((specs) => {
    const dt = new DataTransfer();
    for (const f of specs) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
    return dt;
  }, files);
  const zone = page.getByTestId('chat-drop');
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
}

/** Types a message, presses Enter, and waits until the answer is complete. */
async function ask(page: Page, question: string): Promise<string> {
  const before = await page.getByTestId('msg-assistant').count();
  await page.getByTestId('chat-input').fill(question);
  await page.getByTestId('chat-input').press('Enter');
  const answer = page.getByTestId('msg-assistant').nth(before);
  await expect(answer).toHaveAttribute('data-finish', /^(stop|length|cancelled)$/, { timeout: 60_000 });
  return (await answer.getByTestId('answer-text').textContent()) ?? '';
}

async function clearConversation(page: Page): Promise<void> {
  await page.getByTestId('chat-clear').click();
  await expect(page.getByTestId('msg-user')).toHaveCount(0);
}

test.describe('the Chat view', () => {
  test.setTimeout(180_000);

  test('the bundled model answers questions about a dropped scene, draws the grounding box, and the history survives a reload', async ({ page }) => {
    const blocked = await offline(page);
    await openChat(page);
    await expect(page.getByTestId('model-status')).toContainText('webvlm-tiny');
    await expect(page.getByTestId('model-status')).toContainText('Native WGSL');
    const { image, file } = scene();
    const obj = image.meta.objects[0];
    if (!obj) throw new Error('the scene has no object');

    // Each question in a conversation of its own: the current model answers a
    // follow-up turn with the previous question's answer (checked below).
    const questions: [string, string][] = [
      ['What colour is the object?', obj.colour],
      ['What shape is the object?', obj.shape],
      ['How many objects are there?', String(image.meta.objects.length)],
    ];
    for (const [q, truth] of questions) {
      await clearConversation(page);
      await drop(page, [file]);
      await expect(page.getByTestId('attachment')).toHaveCount(1);
      const answer = await ask(page, q);
      console.log(`Q: ${q}  model: ${JSON.stringify(answer)}  generator: ${JSON.stringify(truth)}`);
      expect(answer.trim()).toBe(truth);
      await expect(page.getByTestId('msg-user').last().getByTestId('msg-image')).toBeVisible();
    }

    // Multi-turn: the follow-up goes with the whole conversation and reuses the cached prefix.
    const followUp = await ask(page, 'What colour is the object?');
    console.log(`follow-up turn: model ${JSON.stringify(followUp)} (generator: ${obj.colour})`);
    await expect(page.getByTestId('answer-stats').last()).toContainText('from the cache');

    await clearConversation(page);
    await drop(page, [file]);
    await page.getByTestId('ground-phrase').fill(`the ${obj.colour} ${obj.shape}`);
    await page.getByTestId('ground-ask').click();
    const last = page.getByTestId('msg-assistant').last();
    await expect(last).toHaveAttribute('data-finish', 'stop', { timeout: 60_000 });
    await expect(page.getByTestId('msg-user').last().getByTestId('msg-text')).toHaveText(`Locate the ${obj.colour} ${obj.shape}.`);
    const text = (await last.getByTestId('answer-text').textContent()) ?? '';
    const parsed = parseGrounding(text, { width: image.meta.width, height: image.meta.height });
    console.log(`grounding: model ${JSON.stringify(text)}`);
    expect(parsed.length).toBeGreaterThan(0);
    const box = last.getByTestId('ground-box').first();
    await expect(box).toBeVisible();
    await expect(box).toHaveAttribute('data-label', `${obj.colour} ${obj.shape}`);
    const drawn = await box.evaluate((el) => ({ x1: Number((el as HTMLElement).dataset.x1), y1: Number((el as HTMLElement).dataset.y1), x2: Number((el as HTMLElement).dataset.x2), y2: Number((el as HTMLElement).dataset.y2) }));
    const want = (parsed[0] as (typeof parsed)[number]).box;
    for (const k of ['x1', 'y1', 'x2', 'y2'] as const) expect(drawn[k]).toBeCloseTo(want[k], 1);

    // The overlay sits on the displayed image at the parsed place, scaled to its displayed size.
    const img = await last.getByTestId('ground-image').boundingBox();
    const rect = await box.boundingBox();
    if (!img || !rect) throw new Error('the image or the box is not laid out');
    const scale = img.width / image.meta.width;
    expect(scale).toBeGreaterThan(1);
    expect(Math.abs(rect.x - img.x - want.x1 * scale)).toBeLessThan(2);
    expect(Math.abs(rect.y - img.y - want.y1 * scale)).toBeLessThan(2);
    expect(Math.abs(rect.width - (want.x2 - want.x1) * scale)).toBeLessThan(2);

    const overlap = iou(want, obj.bbox);
    console.log(`grounding IoU against the generator's box ${JSON.stringify(obj.bbox)}: ${overlap.toFixed(3)}`);
    expect(overlap).toBeGreaterThan(0.5);
    // Tall enough for the whole page, so the sticky status bar sits at the bottom of the picture.
    await page.setViewportSize({ width: 1100, height: 1250 });
    await page.screenshot({ path: `${test.info().project.outputDir}/chat.png` });

    await page.reload();
    await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    await expect(page.getByTestId('msg-user')).toHaveCount(1);
    await expect(page.getByTestId('msg-user').getByTestId('msg-text')).toHaveText(`Locate the ${obj.colour} ${obj.shape}.`);
    await expect(page.getByTestId('msg-user').getByTestId('msg-image')).toHaveJSProperty('complete', true);
    expect(await page.getByTestId('msg-user').getByTestId('msg-image').evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(image.meta.width);
    await expect(page.getByTestId('answer-text')).toHaveText(text);
    await expect(page.getByTestId('ground-box')).toHaveCount(parsed.length);
    expect(blocked).toEqual([]);
  });

  test('Stop ends a stream; the partial answer stays, marked as stopped, and the model answers again', async ({ page }) => {
    await offline(page);
    await openChat(page);
    const { file } = scene();
    const question = 'Describe this image in detail.';

    // Stop pressed the moment the first words appear, as a person would: the
    // observer clicks in the page, so the click does not wait on the test runner.
    await drop(page, [file]);
    await page.evaluate(() => {
      const list = document.querySelector('[data-testid="chat-messages"]');
      if (!list) throw new Error('no message list');
      const observer = new MutationObserver(() => {
        if (!list.querySelector('[data-testid="answer-text"]')?.textContent) return;
        observer.disconnect();
        document.querySelector<HTMLButtonElement>('[data-testid="chat-stop"]')?.click();
      });
      observer.observe(list, { subtree: true, childList: true, characterData: true });
    });
    await page.getByTestId('chat-input').fill(question);
    await page.getByTestId('chat-input').press('Enter');
    const stopped = page.getByTestId('msg-assistant').first();
    await expect(stopped).toHaveAttribute('data-finish', 'cancelled', { timeout: 60_000 });
    await expect(stopped.getByTestId('answer-stopped')).toBeVisible();
    await expect(page.getByTestId('chat-send')).toBeVisible();
    await expect(page.getByTestId('chat-stop')).toBeHidden();
    const partial = (await stopped.getByTestId('answer-text').textContent()) ?? '';

    // Stop pressed before the first token: the request waits for the worker to start, then ends it.
    await clearConversation(page);
    await drop(page, [file]);
    await page.getByTestId('chat-input').fill(question);
    await page.getByTestId('chat-input').press('Enter');
    await page.getByTestId('chat-stop').click();
    await expect(page.getByTestId('msg-assistant').first()).toHaveAttribute('data-finish', 'cancelled', { timeout: 60_000 });
    const early = (await page.getByTestId('answer-text').first().textContent()) ?? '';

    // The same question, not stopped, in a fresh conversation: the stopped answers were its beginning.
    await clearConversation(page);
    await drop(page, [file]);
    const full = await ask(page, question);
    console.log(`stopped at the first words: ${JSON.stringify(partial)}; stopped at once: ${JSON.stringify(early)}; not stopped: ${JSON.stringify(full)}`);
    await expect(page.getByTestId('msg-assistant').last()).toHaveAttribute('data-finish', 'stop');
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(full.length);
    expect(full.startsWith(partial)).toBe(true);
    expect(full.startsWith(early)).toBe(true);
  });

  test('bad inputs each get their message and lose nothing', async ({ page }) => {
    await offline(page);
    await openChat(page);
    const { image, file } = scene();
    await drop(page, [file]);
    expect((await ask(page, 'What colour is the object?')).trim()).toBe(image.meta.objects[0]?.colour);
    const history = async () => ({ users: await page.getByTestId('msg-user').count(), answers: await page.getByTestId('msg-assistant').count() });
    const start = await history();

    // A file that is not an image: refused with its name, the attached image stays.
    await drop(page, [file]);
    await drop(page, [{ name: 'notes.txt', type: 'text/plain', base64: Buffer.from('not a picture').toString('base64') }]);
    await expect(page.getByTestId('chat-notice')).toContainText('notes.txt is not an image');
    await expect(page.getByTestId('attachment')).toHaveCount(1);
    expect(await history()).toEqual(start);

    // An empty prompt is not sent.
    await page.getByTestId('chat-input').fill('   ');
    await page.getByTestId('chat-input').press('Enter');
    await expect(page.getByTestId('chat-notice')).toContainText('Type a question');
    expect(await history()).toEqual(start);
    await expect(page.getByTestId('attachment')).toHaveCount(1);
    await page.getByTestId('attachment-remove').click();
    await expect(page.getByTestId('attachment')).toHaveCount(0);

    // A corrupt PNG: the worker's message, the question back in the box, the history kept.
    await drop(page, [{ name: 'broken.png', type: 'image/png', base64: Buffer.from([137, 80, 78, 71, 13, 10, 26, 10, 1, 2, 3]).toString('base64') }]);
    await page.getByTestId('chat-input').fill('What shape is the object?');
    await page.getByTestId('chat-input').press('Enter');
    const bad = page.getByTestId('chat-error').last();
    await expect(bad).toHaveAttribute('data-code', 'bad-image', { timeout: 60_000 });
    await expect(bad).toContainText('broken.png could not be decoded');
    await expect(page.getByTestId('chat-input')).toHaveValue('What shape is the object?');
    expect(await history()).toEqual({ users: start.users + 1, answers: start.answers });
    await expect(page.getByTestId('answer-text').first()).toHaveText(image.meta.objects[0]?.colour ?? '');

    // A prompt over the context names the limit.
    await page.getByTestId('chat-input').fill('red '.repeat(700));
    await page.getByTestId('chat-input').press('Enter');
    const long = page.getByTestId('chat-error').last();
    await expect(long).toHaveAttribute('data-code', 'context-length', { timeout: 60_000 });
    await expect(long).toContainText('512');
    await expect(long).toContainText('clear the conversation');

    // No model loaded: the page says to load one.
    await page.evaluate(() => (window as unknown as { vlm: { unloadModel(): Promise<void> } }).vlm.unloadModel());
    await page.getByTestId('chat-input').fill('What colour is the object?');
    await page.getByTestId('chat-input').press('Enter');
    await expect(page.getByTestId('chat-error').last()).toHaveAttribute('data-code', 'no-model', { timeout: 60_000 });
    await expect(page.getByTestId('chat-error').last()).toContainText('press Load');

    // A missing model file: the load fails with the file named, and a retry works once it is back.
    // The weights are cached from the first load, so drop the cached copy first or the cache would (rightly) serve it.
    await page.evaluate(() => (window as unknown as { vlm: { cacheDelete(id: string): Promise<number> } }).vlm.cacheDelete('webvlm-tiny'));
    await page.route('**/models/webvlm-tiny/model.safetensors', (route) => route.fulfill({ status: 404, body: 'gone' }));
    await page.getByTestId('load-model').click();
    await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'error', { timeout: 60_000 });
    await expect(page.getByTestId('model-status')).toContainText('model.safetensors');
    await page.unroute('**/models/webvlm-tiny/model.safetensors');
    await page.getByTestId('load-model').click();
    await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });

    // Every earlier turn is still there and the model still answers in the same conversation.
    await expect(page.getByTestId('answer-text').first()).toHaveText(image.meta.objects[0]?.colour ?? '');
    await page.getByTestId('chat-clear').click();
    await drop(page, [file]);
    expect((await ask(page, 'What colour is the object?')).trim()).toBe(image.meta.objects[0]?.colour);
  });

  test('images come by paste and the file picker too, several go with one message, and one can be removed', async ({ page }) => {
    await offline(page);
    await openChat(page);
    const first = scene(SCENE_SEED);
    const second = scene(SCENE_SEED + 1);
    await page.evaluate((f) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true }));
    }, first.file);
    await expect(page.getByTestId('attachment')).toHaveCount(1);
    const picked = (f: FileSpec) => ({ name: f.name, mimeType: f.type, buffer: Buffer.from(f.base64, 'base64') });
    await page.getByTestId('chat-file-input').setInputFiles([picked(second.file), picked({ ...second.file, name: 'extra.png' })]);
    await expect(page.getByTestId('attachment')).toHaveCount(3);
    await page.getByRole('button', { name: 'Remove extra.png' }).click();
    await expect(page.getByTestId('attachment')).toHaveCount(2);
    expect(await page.getByTestId('attachment').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.name))).toEqual([first.file.name, second.file.name]);

    const answer = await ask(page, 'What is the difference between these two images?');
    console.log(`two images: ${JSON.stringify(answer)}`);
    await expect(page.getByTestId('msg-user').getByTestId('msg-image')).toHaveCount(2);
    await expect(page.getByTestId('attachment')).toHaveCount(0);
    await expect(page.getByTestId('msg-assistant')).toHaveAttribute('data-finish', /^(stop|length)$/);
    // Both images went to the model: the same question with one image has one image fewer in the
    // prompt, which the chat template writes as a newline and the image's image_seq_length tokens.
    const promptTokens = async () => Number(/prompt (\d+) tokens/.exec((await page.getByTestId('answer-stats').last().textContent()) ?? '')?.[1]);
    const withTwo = await promptTokens();
    await clearConversation(page);
    await drop(page, [first.file]);
    await ask(page, 'What is the difference between these two images?');
    const config = (await (await page.request.get('/models/webvlm-tiny/config.json')).json()) as { image_seq_length: number };
    expect(withTwo - (await promptTokens())).toBe(config.image_seq_length + 1);
  });

  test('the engine and weight choices load and answer', async ({ page }) => {
    await offline(page);
    await openChat(page);
    const { image, file } = scene();
    const colour = image.meta.objects[0]?.colour ?? '';
    const status = page.getByTestId('model-status');
    const choices: [string, string, string][] = [
      ['onnx', 'f32', 'ONNX Runtime WebGPU'],
      ['native', 'int8', 'int8 weights'],
      ['native', 'int4', 'int4 weights'],
    ];
    for (const [engine, dtype, shown] of choices) {
      await page.getByTestId('engine-select').selectOption(engine);
      // ONNX runs its f32 files as they are; only the native engine quantizes.
      if (engine === 'native') await expect(page.getByTestId('dtype-select')).toBeEnabled();
      else await expect(page.getByTestId('dtype-select')).toBeDisabled();
      if (engine === 'native') await page.getByTestId('dtype-select').selectOption(dtype);
      await page.getByTestId('load-model').click();
      await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 120_000 });
      await expect(status).toContainText(shown);
      await clearConversation(page);
      await drop(page, [file]);
      const answer = await ask(page, 'What colour is the object?');
      console.log(`${engine} ${dtype}: ${JSON.stringify(answer)} (generator: ${colour})`);
      expect(answer.trim()).toBe(colour);
    }
  });

  test('usable at phone width and by keyboard', async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await offline(page);
    await openChat(page);
    const { file } = scene();
    await drop(page, [file]);
    await page.getByTestId('ground-phrase').fill('red square');
    await page.getByTestId('ground-ask').click();
    await expect(page.getByTestId('msg-assistant')).toHaveAttribute('data-finish', 'stop', { timeout: 60_000 });
    await expect(page.getByTestId('ground-box').first()).toBeVisible();
    // The boxes toggle hides and shows the drawing; the answer text stays either way.
    await page.getByTestId('ground-toggle').uncheck();
    await expect(page.getByTestId('ground-figure')).toBeHidden();
    await expect(page.getByTestId('answer-text')).toContainText('<ref>');
    await page.getByTestId('ground-toggle').check();
    await expect(page.getByTestId('ground-box').first()).toBeVisible();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    for (const id of ['chat-input', 'chat-send', 'ground-ask', 'chat-clear', 'load-model', 'engine-select']) {
      const box = await page.getByTestId(id).boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= 390, `${id} fits in 390 px`).toBe(true);
    }
    await page.screenshot({ path: `${test.info().project.outputDir}/chat-phone.png`, fullPage: true });

    // Shift+Enter is a new line, not a send.
    const users = await page.getByTestId('msg-user').count();
    await page.getByTestId('chat-input').fill('');
    await page.getByTestId('chat-input').pressSequentially('first line');
    await page.getByTestId('chat-input').press('Shift+Enter');
    await page.getByTestId('chat-input').pressSequentially('second line');
    await expect(page.getByTestId('chat-input')).toHaveValue('first line\nsecond line');
    await expect(page.getByTestId('msg-user')).toHaveCount(users);

    // Tab walks through every control of the chat.
    await page.locator('body').focus();
    const reached = new Set<string>();
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      const id = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? '');
      if (id) reached.add(id);
    }
    for (const id of ['model-select', 'engine-select', 'load-model', 'chat-file-input', 'chat-input', 'chat-send', 'ground-phrase', 'ground-ask', 'ground-toggle', 'chat-clear']) expect(reached, `${id} is reachable by Tab`).toContain(id);
  });
});
