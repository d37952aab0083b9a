/** RELATE_STATEMENT_TIMEOUT's default, in milliseconds: no statement of a request runs longer. */
export const DEFAULT_STATEMENT_TIMEOUT = 10_000;

/** A PostgreSQL connection not established within this fails, instead of waiting on TCP. */
export const CONNECT_TIMEOUT = 5_000;
