// Errors of the flow text, with the column where they were found, and the small argument readers
// that the flow parser and every action record's text parser share.
import { parseUint, ValueError } from './values.js';

/** A syntax error with the 0-based offset in the flow text where it was found. */
export class FlowSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`column ${offset + 1}: ${reason}`);
    this.name = 'FlowSyntaxError';
  }
}

export const fail = (reason: string, at: number): never => {
  throw new FlowSyntaxError(reason, at);
};

/** Runs a value parser, turning its ValueError into a FlowSyntaxError at offset. */
export function inColumn<T>(offset: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ValueError) throw new FlowSyntaxError(err.message, offset);
    throw err;
  }
}

export function intArg(s: string, offset: number, max: number, what: string): number {
  const v = inColumn(offset, () => parseUint(s));
  if (v > BigInt(max)) fail(`invalid ${what} "${s}"`, offset);
  return Number(v);
}

/** `A->B` as in set_field, load and move; `what` completes the error ("missing `->' following source"). */
export function splitArrow(text: string, offset: number, what: string): [string, string] {
  const i = text.indexOf('->');
  if (i < 0) fail(`${text}: missing \`->'${what}`, offset);
  return [text.slice(0, i), text.slice(i + 2)];
}
