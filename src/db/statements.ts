import { AsyncLocalStorage } from 'node:async_hooks';

/** Counts the SQL statements issued on behalf of one request (or any other unit of work). */
export interface StatementCounter {
  count: number;
}

const storage = new AsyncLocalStorage<StatementCounter>();

export function countStatements<T>(counter: StatementCounter, fn: () => T): T {
  return storage.run(counter, fn);
}

export function recordStatement(): void {
  const counter = storage.getStore();
  if (counter) counter.count += 1;
}
