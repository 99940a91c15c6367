/**
 * Dates in free text, normalised to YYYY-MM-DD: the deterministic half of
 * "Extract all dates mentioned". Recognised forms: ISO (2024-03-15,
 * 2024/03/15), day-month-year with dots or slashes (15.03.2024, 15/03/2024;
 * day first, as in most of the world, unless the first number cannot be a day
 * but the second can: 03/25/2024), "15 March 2024", "March 15, 2024",
 * "15-Mar-2024", with English month names or their three-letter forms.
 * Impossible dates (2023-02-30) are rejected rather than rolled over.
 */
export interface FoundDate {
  /** The text as it appeared. */
  text: string;
  /** YYYY-MM-DD. */
  iso: string;
  /** Offset of `text` in the input. */
  index: number;
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const MONTH = '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\.?';

function monthNumber(name: string): number {
  const n = name.toLowerCase().replace('.', '');
  return MONTHS.findIndex((m) => m.startsWith(n.slice(0, 3))) + 1;
}

function fourDigitYear(y: string): number {
  const v = Number(y);
  // Two-digit years: 00-69 are this century, 70-99 the last (the POSIX pivot).
  return y.length === 2 ? (v < 70 ? 2000 + v : 1900 + v) : v;
}

export function isoDate(year: number, month: number, day: number): string | null {
  if (!(year >= 1000 && year <= 9999 && month >= 1 && month <= 12 && day >= 1)) return null;
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > days) return null;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

type Parse = (m: RegExpExecArray) => string | null;

const PATTERNS: readonly [RegExp, Parse][] = [
  [/\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b/g, (m) => isoDate(Number(m[1]), Number(m[2]), Number(m[3]))],
  [
    /\b(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})\b/g,
    (m) => {
      const a = Number(m[1]);
      const b = Number(m[2]);
      const y = fourDigitYear(m[3] as string);
      return a > 12 || b <= 12 ? isoDate(y, b, a) : isoDate(y, a, b);
    },
  ],
  [new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?(?:\\s+|-)(?:of\\s+)?${MONTH}(?:,?\\s+|-)(\\d{4})\\b`, 'gi'), (m) => isoDate(Number(m[3]), monthNumber(m[2] as string), Number(m[1]))],
  [new RegExp(`\\b${MONTH}\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})\\b`, 'gi'), (m) => isoDate(Number(m[3]), monthNumber(m[1] as string), Number(m[2]))],
];

/** Every date in `text`, in order of appearance; overlapping matches keep the earliest, longest. */
export function extractDates(text: string): FoundDate[] {
  const found: FoundDate[] = [];
  for (const [re, parse] of PATTERNS) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const iso = parse(m);
      if (iso) found.push({ text: m[0], iso, index: m.index });
    }
  }
  found.sort((a, b) => a.index - b.index || b.text.length - a.text.length);
  const out: FoundDate[] = [];
  for (const d of found) {
    const last = out.at(-1);
    if (last && d.index < last.index + last.text.length) continue;
    out.push(d);
  }
  return out;
}
