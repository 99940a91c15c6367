// node scripts/make-ocr-fixture.mjs
// Writes test/fixtures/ocr-line.png: one line of text drawn by Chromium's
// canvas with DejaVu Sans (a real, anti-aliased font), for the Node test that
// runs the real OCR models. Grey, 8-bit, which the test reads with the app's
// own PNG decoder.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { withAppPage } from './lib/browser-page.mjs';

export const FIXTURE_TEXT = 'Invoice No. 4711 dated 15 March 2024';

const { width, height, grey } = await withAppPage('/ocr.html', (page) =>
  page.evaluate((text) => {
    const canvas = new OffscreenCanvas(720, 72);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = '#111';
    ctx.font = '30px DejaVu Sans';
    ctx.textBaseline = 'middle';
    ctx.fillText(text, 16, 36);
    const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const grey = [];
    for (let i = 0; i < rgba.length; i += 4) grey.push(rgba[i + 1]);
    return { width: canvas.width, height: canvas.height, grey };
  }, FIXTURE_TEXT),
);

function chunk(type, body) {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  body.copy(out, 8);
  let c = ~0;
  for (const b of out.subarray(4, 8 + body.length)) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  out.writeUInt32BE(~c >>> 0, 8 + body.length);
  return out;
}
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(width, 0);
ihdr.writeUInt32BE(height, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 0; // grey
const raw = Buffer.alloc((width + 1) * height);
for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = grey[y * width + x];
const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
writeFileSync('test/fixtures/ocr-line.png', png);
writeFileSync('test/fixtures/ocr-line.txt', `${FIXTURE_TEXT}\n`);
console.log(`wrote test/fixtures/ocr-line.png (${width}x${height}, ${png.length} bytes)`);
