import { expect, test, type Page } from '@playwright/test';
import { encodePng, generateScene } from '../src/data/index';
import { Rng } from '../src/data/random';

/**
 * The engine worker dying: killed while an answer streams, and failing at
 * start. Either used to hang the app for good (an answer "streaming" forever,
 * Stop/Load/Clear disabled, or "Starting the engine…" for good).
 */

async function openChat(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('chat-page')).toBeVisible();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
}

async function dropScene(page: Page): Promise<void> {
  const image = generateScene(new Rng(100), { minObjects: 1, maxObjects: 1 });
  const base64 = Buffer.from(encodePng(image.raster)).toString('base64');
  const dataTransfer = await page.evaluateHandle((b64) => {
    const dt = new DataTransfer();
    dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'scene.png', { type: 'image/png' }));
    return dt;
  }, base64);
  const zone = page.getByTestId('chat-drop');
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
  await expect(page.getByTestId('attachment')).toHaveCount(1);
}

async function ask(page: Page, question: string): Promise<void> {
  await page.getByTestId('chat-input').fill(question);
  await page.getByTestId('chat-input').press('Enter');
}

test.describe('a dead engine worker', () => {
  test.setTimeout(120_000);

  test('killed while an answer streams: the answer ends with the engine-stopped error, Load works again, a new question is answered, the history is kept', async ({ page }) => {
    await openChat(page);
    await dropScene(page);
    // The worker is terminated the moment the first words appear, from inside the page, so the answer is still streaming.
    await page.evaluate(() => {
      const list = document.querySelector('[data-testid="chat-messages"]');
      if (!list) throw new Error('no message list');
      const observer = new MutationObserver(() => {
        if (!list.querySelector('[data-testid="answer-text"]')?.textContent) return;
        observer.disconnect();
        (window as unknown as { vlmWorker: Worker }).vlmWorker.terminate();
      });
      observer.observe(list, { subtree: true, childList: true, characterData: true });
    });
    await ask(page, 'Describe this image in detail.');

    const error = page.getByTestId('chat-error');
    await expect(error).toHaveAttribute('data-code', 'worker-crashed', { timeout: 30_000 });
    await expect(error).toContainText('The engine stopped.');
    await expect(error).toContainText('stopped before this request finished');
    await expect(error).toContainText('Your conversation and cached models are kept.');
    await expect(page.getByTestId('msg-assistant')).toHaveCount(0);
    await expect(page.getByTestId('chat-stop')).toBeHidden();
    await expect(page.getByTestId('chat-send')).toBeEnabled();
    await expect(page.getByTestId('chat-clear')).toBeEnabled();

    // The picker knows the model is gone; the page says what happened and offers to load it again.
    const status = page.getByTestId('model-status');
    await expect(status).toHaveAttribute('data-state', 'error');
    await expect(status).toHaveAttribute('data-code', 'worker-crashed');
    await expect(status).toContainText('webvlm-tiny is no longer loaded');
    await expect(page.getByTestId('load-model')).toBeEnabled();
    await expect(page.getByTestId('engine-notice')).toContainText('The engine stopped');
    await expect(page.getByTestId('engine-notice')).toContainText('Your conversation and cached models are kept.');
    await expect(page.getByTestId('engine-state')).toContainText('Engine restarted');
    expect(await page.evaluate(() => (window as unknown as { vlm: { loadedModel(): Promise<unknown> } }).vlm.loadedModel())).toBeNull();

    await page.getByTestId('engine-reload-model').click();
    await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    await expect(status).toContainText('webvlm-tiny');
    await expect(page.getByTestId('engine-notice')).toHaveCount(0);

    // The failed question is still in the conversation with its error, its picture given back to send again;
    // a new question about it is answered by the fresh worker.
    await expect(page.getByTestId('msg-user')).toHaveCount(1);
    await expect(page.getByTestId('attachment')).toHaveCount(1);
    await ask(page, 'What colour is the object?');
    const answer = page.getByTestId('msg-assistant').last();
    await expect(answer).toHaveAttribute('data-finish', 'stop', { timeout: 60_000 });
    expect((await answer.getByTestId('answer-text').textContent())?.trim()).toBe('red');
    await expect(page.getByTestId('msg-user')).toHaveCount(2);
    await expect(page.getByTestId('msg-user').first().getByTestId('msg-text')).toHaveText('Describe this image in detail.');

    // A worker that closes itself fires no event either: it is noticed the same way, while idle too.
    const live = await page.evaluateHandle(() => (window as unknown as { vlmWorker: Worker }).vlmWorker);
    const engine = page.workers().find((w) => w.url().includes('engine.worker'));
    if (!engine) throw new Error('no engine worker');
    await engine.evaluate(() => setTimeout(() => self.close(), 0));
    await expect(page.getByTestId('engine-notice')).toContainText('The engine stopped');
    await expect(status).toHaveAttribute('data-code', 'worker-crashed');
    expect(await live.evaluate((w) => w !== (window as unknown as { vlmWorker: Worker }).vlmWorker)).toBe(true);
  });

  test('a worker script that throws at start: the status bar and a notice say so within seconds, and it is not restarted for ever', async ({ page }) => {
    let fetches = 0;
    // The real response's headers (type, isolation, policy) with a body that throws, as a broken build would.
    await page.route('**/engine.worker*', async (route) => {
      fetches++;
      const real = await route.fetch();
      await route.fulfill({ response: real, body: 'throw new Error("broken build");' });
    });
    await page.goto('/');
    const bar = page.getByTestId('status-bar');
    await expect(bar).toContainText('Engine failed to start: reload the page', { timeout: 15_000 });
    await expect(bar).not.toContainText('Starting the engine');
    const notice = page.getByTestId('engine-notice');
    await expect(notice).toHaveAttribute('data-kind', 'failed-to-start');
    await expect(notice).toContainText('The engine failed to start');
    await expect(notice).toContainText('broken build');
    await expect(notice).toContainText('not started again');
    await expect(page.getByTestId('engine-reload-page')).toBeVisible();

    // Chat's first load ends with the error instead of loading for ever, and nothing more is tried.
    const status = page.getByTestId('model-status');
    await expect(status).toHaveAttribute('data-state', 'error');
    await expect(status).toHaveAttribute('data-code', 'worker-crashed');
    expect(fetches).toBe(3);
  });
});
