import { expect, test, type Page } from '@playwright/test';
import { encodePng, generateScene } from '../src/data/index';
import { Rng } from '../src/data/random';

/**
 * An SVG is a document, not a picture: opened from its blob URL it runs its
 * script with the app's storage. Chat must refuse it however it arrives (the
 * picker, a drop, a misleading name), keep only raster blobs, and no URL the
 * page hands out may run script; the page's Content-Security-Policy stops an
 * SVG blob's script even where one is made.
 */
const SVG = `<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" onload="localStorage.setItem('pwned', 'onload')">
  <script>localStorage.setItem('pwned', 'script')</script>
  <rect width="64" height="64" fill="red"/>
</svg>`;

interface FileSpec {
  name: string;
  type: string;
  base64: string;
}

const svgFile = (name: string, type: string): FileSpec => ({ name, type, base64: Buffer.from(SVG).toString('base64') });
const png = (): FileSpec => ({ name: 'scene.png', type: 'image/png', base64: Buffer.from(encodePng(generateScene(new Rng(100), { minObjects: 1, maxObjects: 1 }).raster)).toString('base64') });

async function drop(page: Page, files: FileSpec[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle((specs) => {
    const dt = new DataTransfer();
    for (const f of specs) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
    return dt;
  }, files);
  await page.getByTestId('chat-drop').dispatchEvent('dragover', { dataTransfer });
  await page.getByTestId('chat-drop').dispatchEvent('drop', { dataTransfer });
}

/** The type of every blob the attachment thumbnails show. */
const thumbTypes = (page: Page) => page.getByTestId('attachment').locator('img').evaluateAll((imgs) => Promise.all(imgs.map(async (i) => (await fetch((i as HTMLImageElement).src)).blob().then((b) => b.type))));

/** Opens a URL in a tab of its own, as a person opening a thumbnail would, and gives the script a moment. */
async function open(page: Page, url: string): Promise<void> {
  const tab = await page.context().newPage();
  await tab.goto(url).catch(() => undefined);
  await tab.waitForTimeout(300);
  await tab.close();
}

const pwned = (page: Page) => page.evaluate(() => localStorage.getItem('pwned'));

test('an SVG with a script is refused by the picker and by a drop; only raster blobs are kept, and no opened URL runs script', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('chat-page')).toBeVisible();
  await page.evaluate(() => localStorage.removeItem('pwned'));

  await page.getByTestId('chat-file-input').setInputFiles({ name: 'drawing.svg', mimeType: 'image/svg+xml', buffer: Buffer.from(SVG) });
  await expect(page.getByTestId('chat-notice')).toContainText('drawing.svg is an SVG drawing');
  await expect(page.getByTestId('attachment')).toHaveCount(0);

  // Dropped with a raster picture, and once more under a PNG's name and type: the picture is kept, the drawings are not.
  await drop(page, [svgFile('dropped.svg', 'image/svg+xml'), png(), svgFile('holiday.png', 'image/png')]);
  await expect(page.getByTestId('chat-notice')).toContainText('dropped.svg, holiday.png are SVG drawings');
  await expect(page.getByTestId('attachment')).toHaveCount(1);
  await expect(page.getByTestId('attachment')).toHaveAttribute('data-name', 'scene.png');
  expect(await thumbTypes(page)).toEqual(['image/png']);

  for (const src of await page.getByTestId('attachment').locator('img').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).src))) await open(page, src);
  expect(await pwned(page)).toBeNull();

  // The page's policy forbids inline script: an injected handler does not run in the page, nor in an
  // SVG blob the page opens (as history written by an older version could hold), which inherits the policy.
  await page.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<img src="data:," onerror="localStorage.setItem(\'pwned\', \'inline\')">'));
  const popup = page.waitForEvent('popup');
  await page.evaluate((svg) => {
    const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' })), target: '_blank' });
    document.body.append(a);
    a.click();
  }, SVG);
  const tab = await popup;
  await tab.waitForLoadState();
  await tab.waitForTimeout(300);
  await tab.close();
  expect(await pwned(page)).toBeNull();
});
