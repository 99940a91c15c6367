/**
 * Test pages with known text, drawn in the browser with a real font
 * (canvas text is anti-aliased and hinted like a scan or a rendered PDF),
 * and PDFs built from them with pdf-lib: image-only (no text layer, so OCR
 * must read it), with a text layer, password-protected and corrupt. The bench,
 * the e2e specs and the CER measurement all use these.
 */
import { PDFDocument, StandardFonts, rgb } from 'pdf-lib';
import { generateDocument } from '../data/documents';
import { Rng } from '../data/random';
import { BODY_WORDS, TITLE_FIRST, TITLE_SECOND } from '../data/words';

export interface PageStyle {
  /** Font size in pixels at the page's resolution. */
  px: number;
  ink: string;
  paper: string;
  font: string;
}

/** Sizes from small print to headings at 150 dpi, and contrasts from black-on-white to grey-on-grey. */
export const PAGE_STYLES: readonly PageStyle[] = [
  { px: 22, ink: '#000000', paper: '#ffffff', font: 'DejaVu Sans, sans-serif' },
  { px: 18, ink: '#333333', paper: '#ffffff', font: 'DejaVu Serif, serif' },
  { px: 28, ink: '#555555', paper: '#f4f1e8', font: 'DejaVu Sans, sans-serif' },
  { px: 40, ink: '#1a1a6e', paper: '#ffffff', font: 'DejaVu Serif, serif' },
  { px: 24, ink: '#444444', paper: '#d8d8d8', font: 'DejaVu Sans Mono, monospace' },
  { px: 16, ink: '#000000', paper: '#ffffff', font: 'DejaVu Sans, sans-serif' },
];

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Seeded lines: a title, sentences with numbers and dates, like a memo. */
export function pageLines(seed: number, count: number): string[] {
  const rng = new Rng(seed);
  const below = (n: number) => rng.int(0, n - 1);
  const pick = <T>(xs: readonly T[]) => rng.pick(xs);
  const title = `${pick(TITLE_FIRST)} ${pick(TITLE_SECOND)} ${2020 + below(6)}`;
  const lines = [title];
  for (let i = 1; i < count; i++) {
    const words = Array.from({ length: 4 + below(4) }, () => pick(BODY_WORDS));
    const d = 1 + below(28);
    const extra = [`${d} ${pick(MONTHS)} ${2019 + below(7)}`, `${(below(90000) / 100).toFixed(2)} EUR`, `No. ${100 + below(900)}`, `${2020 + below(6)}-0${1 + below(9)}-${10 + below(18)}`];
    words.splice(1 + below(words.length - 1), 0, pick(extra));
    const s = words.join(' ');
    lines.push(`${s.charAt(0).toUpperCase()}${s.slice(1)}.`);
  }
  return lines;
}

/**
 * The lines of a page laid out as the data generator's documents are (a title,
 * "Date: YYYY-MM-DD", body sentences, a table with one line per row), which the
 * bundled model learned to answer questions about from their text.
 */
export function formLines(seed: number): string[] {
  const { meta } = generateDocument(new Rng(seed));
  return [meta.title.text, meta.dateRun.text, ...meta.lines.map((l) => l.text), ...[meta.table.columns, ...meta.table.rows].map((r) => r.join('   '))];
}

/** Draws the lines on a page of `width` x `height` px; returns the canvas. */
export function drawPage(lines: readonly string[], style: PageStyle, width = 1240, height = 1754): OffscreenCanvas {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas');
  ctx.fillStyle = style.paper;
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = style.ink;
  ctx.textBaseline = 'top';
  const margin = Math.round(width * 0.08);
  let y = margin;
  lines.forEach((line, i) => {
    const px = i === 0 ? Math.round(style.px * 1.4) : style.px;
    ctx.font = `${i === 0 ? 'bold ' : ''}${px}px ${style.font}`;
    ctx.fillText(line, margin, y, width - 2 * margin);
    y += Math.round(px * 1.9);
  });
  return canvas;
}

export async function canvasPng(canvas: OffscreenCanvas): Promise<Uint8Array> {
  return new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
}

/** A PDF whose pages are only images: no text layer, so only OCR can read it. */
export async function imagePdf(pngs: readonly Uint8Array[], dpi = 150): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  for (const png of pngs) {
    const img = await pdf.embedPng(png);
    const w = (img.width * 72) / dpi;
    const h = (img.height * 72) / dpi;
    pdf.addPage([w, h]).drawImage(img, { x: 0, y: 0, width: w, height: h });
  }
  return pdf.save();
}

/** A long scan: `pages` pages showing one image, embedded once (so 500 pages stay small). */
export async function repeatedImagePdf(png: Uint8Array, pages: number, dpi = 150): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const img = await pdf.embedPng(png);
  const w = (img.width * 72) / dpi;
  const h = (img.height * 72) / dpi;
  for (let i = 0; i < pages; i++) pdf.addPage([w, h]).drawImage(img, { x: 0, y: 0, width: w, height: h });
  return pdf.save();
}

/** An A4 PDF with real text (Helvetica): pdf.js finds a text layer. */
export async function textPdf(pages: readonly (readonly string[])[]): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = pdf.addPage([595, 842]);
    lines.forEach((line, i) => {
      const size = i === 0 ? 18 : 11;
      page.drawText(line, { x: 50, y: 780 - i * 24, size, font, color: rgb(0, 0, 0) });
    });
  }
  return pdf.save();
}

/**
 * A PDF under the standard security handler whose user password is not
 * empty: readers must ask for it. The O and U entries are arbitrary, so no
 * password opens it, which is all a test of the refusal needs.
 */
export function encryptedPdf(): Uint8Array {
  const hex32 = 'A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>',
    `<< /Filter /Standard /V 1 /R 2 /O <${hex32}> /U <${hex32}> /P -44 >>`,
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Encrypt 4 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>] >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(body);
}

/** Starts like a PDF, then is noise: no cross-reference table, no objects. */
export function corruptPdf(): Uint8Array {
  const rng = new Rng(7);
  const junk = Array.from({ length: 2000 }, () => String.fromCharCode(32 + rng.int(0, 89))).join('');
  return new TextEncoder().encode(`%PDF-1.7\n${junk}`);
}
