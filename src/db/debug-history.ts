import { Debug } from '@prisma/client/runtime/client';

/**
 * Prisma's debug module keeps the arguments of its last 100 debug calls whether debugging is on
 * or not (for the error reports it can print), and the client's calls include each statement's
 * bound values and query plan. After a statement that carried a batch (a thousand rows as one
 * JSON text or as arrays: up to a megabyte), those values stay reachable until a hundred more
 * calls push them out, and the garbage collector sizes the heap as a multiple of what is
 * reachable. Writing a hundred one-character entries after such a statement drops them (the
 * module's clearLogs is not exported); should Prisma keep no history, they cost nothing.
 */
const HISTORY = 100;
/** Bound values past this size (characters of text, elements of arrays) are dropped from the history. */
const LARGE = 64 * 1024;

const debug = Debug('relate:db');

/** Drops Prisma's debug history when `args` (a statement's bound values) are large. */
export function forgetLargeArgs(args: readonly unknown[]): void {
  let size = 0;
  for (const arg of args) {
    if (typeof arg === 'string') size += arg.length;
    else if (Array.isArray(arg)) size += arg.length;
  }
  if (size < LARGE) return;
  for (let i = 0; i < HISTORY; i += 1) debug('-');
}
