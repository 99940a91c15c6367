/**
 * Tab-separated rows as pandas writes them (MMBench's TSVs come from
 * DataFrame.to_csv(sep='\t')): a field holding a tab, quote or line break is
 * quoted, its quotes doubled. Each row keeps the line it starts on, for errors.
 */

export interface TsvRow {
  line: number;
  cells: string[];
}

export class TsvError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'TsvError';
  }
}

export function readTsv(text: string): TsvRow[] {
  const rows: TsvRow[] = [];
  let cells: string[] = [];
  let cell = '';
  let line = 1;
  let start = 1;
  let quoted = false;
  let i = 0;
  const endRow = () => {
    cells.push(cell);
    if (cells.length > 1 || cells[0] !== '') rows.push({ line: start, cells });
    cells = [];
    cell = '';
  };
  while (i < text.length) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === '\t') {
      cells.push(cell);
      cell = '';
    }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRow();
      start = ++line;
    } else cell += ch;
    i++;
  }
  if (quoted) throw new TsvError(start, 'a quoted field is never closed');
  if (cell !== '' || cells.length > 0) endRow();
  return rows;
}
