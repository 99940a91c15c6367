import { expect, test, type Page } from '@playwright/test';
import { encodePng, generateScene } from '../src/data/index';
import { Rng } from '../src/data/random';

/**
 * The chat history as two tabs and a reload meet it: both tabs' turns and
 * images survive, a Clear in one is told to the other, and an answer cut
 * short by a reload keeps the text saved while it streamed.
 */

function sceneFile(seed: number): { name: string; type: string; base64: string; width: number } {
  const image = generateScene(new Rng(seed), { minObjects: 1, maxObjects: 1 });
  return { name: `scene-${seed}.png`, type: 'image/png', base64: Buffer.from(encodePng(image.raster)).toString('base64'), width: image.meta.width };
}

async function openChat(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
}

async function drop(page: Page, file: { name: string; type: string; base64: string }): Promise<void> {
  const dataTransfer = await page.evaluateHandle((f) => {
    const dt = new DataTransfer();
    dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
    return dt;
  }, file);
  await page.getByTestId('chat-drop').dispatchEvent('dragover', { dataTransfer });
  await page.getByTestId('chat-drop').dispatchEvent('drop', { dataTransfer });
  await expect(page.getByTestId('attachment')).toHaveCount(1);
}

async function ask(page: Page, question: string): Promise<string> {
  const before = await page.getByTestId('msg-assistant').count();
  await page.getByTestId('chat-input').fill(question);
  await page.getByTestId('chat-input').press('Enter');
  const answer = page.getByTestId('msg-assistant').nth(before);
  await expect(answer).toHaveAttribute('data-finish', /^(stop|length)$/, { timeout: 60_000 });
  return (await answer.getByTestId('answer-text').textContent()) ?? '';
}

/** Every thumbnail shown decoded, at the width of the scene it came from. */
async function thumbWidths(page: Page): Promise<number[]> {
  const thumbs = page.getByTestId('msg-user').getByTestId('msg-image');
  for (const t of await thumbs.all()) await expect(t).toHaveJSProperty('complete', true);
  return thumbs.evaluateAll((els) => els.map((e) => (e as HTMLImageElement).naturalWidth));
}

test.describe('the chat history', () => {
  test.setTimeout(150_000);

  test('two tabs each ask about their own image: after a reload both turns and both images are there, and a Clear in one is told to the other', async ({ page }) => {
    const other = await page.context().newPage();
    await openChat(page);
    await openChat(other);
    const [a, b] = [sceneFile(100), sceneFile(101)];

    await drop(page, a);
    const answerA = await ask(page, 'What colour is the object?');
    // The other tab was open before the question: it shows it all the same.
    await expect(other.getByTestId('msg-user')).toHaveCount(1);
    await drop(other, b);
    const answerB = await ask(other, 'What shape is the object?');
    await expect(page.getByTestId('msg-user')).toHaveCount(2);

    await page.reload();
    await expect(page.getByTestId('msg-user').getByTestId('msg-text')).toHaveText(['What colour is the object?', 'What shape is the object?']);
    await expect(page.getByTestId('answer-text')).toHaveText([answerA, answerB]);
    expect(await thumbWidths(page)).toEqual([a.width, b.width]);
    await expect(page.getByTestId('chat-notice')).toBeHidden();

    // A Clear in one tab empties the other, which says why; nothing comes back on a reload.
    await page.getByTestId('chat-clear').click();
    await expect(other.getByTestId('msg-user')).toHaveCount(0);
    await expect(other.getByTestId('chat-notice')).toHaveText('The conversation was cleared in another tab.');
    await other.reload();
    await expect(other.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    await expect(other.getByTestId('msg-user')).toHaveCount(0);
  });

  test('a reload in the middle of an answer keeps the text that had come, marked as stopped by the reload, and the chat goes on', async ({ page }) => {
    await openChat(page);
    await drop(page, sceneFile(100));
    // Reload the moment the stored answer has text while it is still streaming, from inside the
    // page so no answer can end between seeing it and reloading; the text seen is kept for after.
    await page.evaluate(() => {
      const look = () => {
        const open = indexedDB.open('webvlm-chat');
        open.onsuccess = () => {
          const db = open.result;
          const all = db.transaction('history').objectStore('history').getAll(IDBKeyRange.bound('turn:', 'turn:\uffff'));
          all.onsuccess = () => {
            const answer = (all.result as { turn?: { role: string; text: string; finish: string } }[]).find((r) => r.turn?.role === 'assistant');
            db.close();
            if (answer?.turn && answer.turn.finish === 'streaming' && answer.turn.text.length > 0) {
              sessionStorage.setItem('seen', answer.turn.text);
              location.reload();
            } else setTimeout(look, 10);
          };
        };
      };
      look();
    });
    const reloaded = page.waitForEvent('load', { timeout: 60_000 });
    await page.getByTestId('chat-input').fill('Describe this image in detail.');
    await page.getByTestId('chat-input').press('Enter');
    await reloaded;
    await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });

    const seen = (await page.evaluate(() => sessionStorage.getItem('seen'))) ?? '';
    const cut = page.getByTestId('msg-assistant').first();
    await expect(cut).toHaveAttribute('data-finish', 'interrupted');
    await expect(cut.getByTestId('answer-stopped')).toHaveText('Stopped by a reload: this is the partial answer.');
    const kept = (await cut.getByTestId('answer-text').textContent()) ?? '';
    console.log(`seen in storage before the reload: ${JSON.stringify(seen)}; shown after: ${JSON.stringify(kept)}`);
    expect(seen.length).toBeGreaterThan(0);
    expect(kept.startsWith(seen)).toBe(true);

    // The conversation still sends, the cut answer in it.
    await drop(page, sceneFile(100));
    await ask(page, 'What colour is the object?');
    await expect(page.getByTestId('msg-assistant')).toHaveCount(2);
  });
});
