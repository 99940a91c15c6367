/** What reading the stored conversation found, in words a person can act on. */

export interface LoadCounts {
  /** Turns mended and kept (a missing field filled in, an unknown end state read as stopped). */
  repaired: number;
  /** Turns too damaged to show, deleted. */
  removed: number;
  /** Turns of a format this version cannot read, deleted. */
  old: number;
  /** Turns written by a newer version of the app, kept but not shown. */
  newer: number;
  /** The whole single-record history of an unknown old format, deleted. */
  legacyDiscarded: boolean;
  /** Stored images that could not be read, deleted (their turns show them as missing). */
  images: number;
}

const turns = (n: number) => (n === 1 ? '1 turn' : `${n} turns`);

export function loadNotices(c: LoadCounts): string[] {
  const out: string[] = [];
  if (c.removed || c.repaired) {
    const parts = [c.repaired ? `${turns(c.repaired)} repaired` : '', c.removed ? `${turns(c.removed)} too damaged to show removed` : ''].filter(Boolean);
    out.push(`The saved conversation was damaged: ${parts.join(', ')}; the rest is as it was.`);
  }
  if (c.images) out.push(`${c.images === 1 ? '1 saved image' : `${c.images} saved images`} could not be read and ${c.images === 1 ? 'was' : 'were'} removed.`);
  if (c.old || c.legacyDiscarded) out.push('Part of the saved conversation was in a format this version cannot read and was removed.');
  if (c.newer) out.push(`${turns(c.newer)} saved by a newer version of this app ${c.newer === 1 ? 'is' : 'are'} kept but not shown here.`);
  return out;
}
