// The command line of the tool scripts, through node:util parseArgs in strict
// mode: a misspelt or unknown flag stops the script before it starts a browser.
import { parseArgs } from 'node:util';

/** parseArgs's { values, positionals }, or exit 2 with its reason and the usage line. */
export function readArgs(usage, options, { allowPositionals = false } = {}) {
  try {
    return parseArgs({ options, allowPositionals });
  } catch (e) {
    console.error(`${e.message}\n${usage}`);
    process.exit(2);
  }
}

/** The value of a flag that must be one of `choices`, or exit 2 naming them. */
export function oneOf(name, value, choices) {
  if (choices.includes(value)) return value;
  console.error(`--${name} must be ${choices.join(' or ')}, not ${value}`);
  process.exit(2);
}

/** The value of a flag as an integer >= min, or exit 2 saying so. */
export function integer(name, value, min = Number.MIN_SAFE_INTEGER) {
  const n = Number(value);
  if (Number.isInteger(n) && n >= min) return n;
  console.error(`--${name} must be an integer${min > Number.MIN_SAFE_INTEGER ? ` >= ${min}` : ''}, not ${value}`);
  process.exit(2);
}
