/**
 * What every answer must be, whatever was sent (SPEC §5.1): no 5xx, no INTERNAL_SERVER_ERROR,
 * an `extensions.code` on every error; a USER never gets the Success of an admin-only mutation;
 * and a string no database may store (a forbidden control character, an unpaired surrogate)
 * is refused wherever it is sent — unless the field that would read it never ran.
 */
import type { App } from '../../src/app.js';
import { ENDPOINT } from '../helpers.js';
import { summarize, toJson } from './hostile.js';
import { holdsUnstorable, reached, type Rendered, type Target } from './operations.js';

export interface Answer {
  status: number;
  /** The parsed body, or undefined when it is not JSON. */
  body: any;
  text: string;
}

/** POSTs one operation as the given key; the body is read as text first, so a non-JSON answer is reported, not thrown. */
export async function send(app: App, apiKey: string, operation: { query: string; variables?: Record<string, unknown> }): Promise<Answer> {
  const response = await app.countedFetch(ENDPOINT, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: toJson({ query: operation.query, variables: operation.variables }),
  });
  return readAnswer(response);
}

/** A response's status and body, read as text first: a non-JSON body is kept as text, not thrown. */
export async function readAnswer(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text };
}

export type Role = 'admin' | 'user';

/** The result of a mutation (its union member), or undefined. */
export const resultOf = (target: Target, answer: Answer): { __typename?: string; code?: string } | undefined =>
  answer.body?.data?.[target.steps[0]!.field.name] ?? undefined;

export const succeeded = (target: Target, answer: Answer) =>
  target.operation === 'mutation' && !answer.body?.errors?.length && String(resultOf(target, answer)?.__typename ?? '').endsWith('Success');

/** Every way this answer breaks the rules; empty when it is fine. */
export function problemsOf(target: Target, rendered: Rendered, answer: Answer, role: Role): string[] {
  const problems: string[] = [];
  if (answer.status >= 500) problems.push(`HTTP ${answer.status}`);
  if (answer.body === null || typeof answer.body !== 'object' || Array.isArray(answer.body)) {
    problems.push(`the body is not a JSON object: ${summarize(answer.text)}`);
    return problems;
  }
  const errors: any[] = Array.isArray(answer.body.errors) ? answer.body.errors : [];
  if (answer.body.errors !== undefined && !Array.isArray(answer.body.errors)) problems.push('errors is not a list');
  for (const error of errors) {
    const code = error?.extensions?.code;
    if (code === 'INTERNAL_SERVER_ERROR') problems.push(`INTERNAL_SERVER_ERROR at ${JSON.stringify(error.path ?? [])}`);
    else if (typeof code !== 'string' || !code) problems.push(`an error without extensions.code: ${summarize(error?.message)}`);
  }
  if (answer.status >= 400 && !errors.length) problems.push(`HTTP ${answer.status} without errors`);
  if (answer.status === 200 && !errors.length && !answer.body.data) problems.push('HTTP 200 with neither data nor errors');

  const result = resultOf(target, answer);
  if (target.adminOnly && role === 'user' && succeeded(target, answer)) problems.push(`a USER key got ${result?.__typename}`);

  const refused = errors.length > 0 || (target.operation === 'mutation' && !!result && !succeeded(target, answer));
  if (!refused) {
    for (const variable of target.variables) {
      if (!(variable.name in rendered.sent)) continue;
      if (!holdsUnstorable(variable.argument.type, rendered.sent[variable.name])) continue;
      if (!reached(answer.body.data, target, variable.step)) continue;
      problems.push(`an unstorable string (control character or unpaired surrogate) was accepted in ${variable.owner}(${variable.argument.name})`);
    }
  }
  return problems;
}

/** One failing case, readable: the operation, its variables (long values abbreviated) and the answer. */
export function describeCase(target: Target, rendered: Rendered, role: Role, answer: Answer, problems: string[]): string {
  const body = answer.body === undefined ? answer.text : answer.body;
  return [
    `${target.id} as ${role}: ${problems.join('; ')}`,
    `  operation: ${rendered.query}`,
    `  variables: ${summarize(rendered.variables)}`,
    `  answer: HTTP ${answer.status} ${summarize(body)}`,
  ].join('\n');
}
