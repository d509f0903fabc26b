import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from './errors.js';

/** Converts zod issues into our stable, zod-independent {@link ValidationIssue} shape. */
export function toValidationIssues(issues: readonly z.core.$ZodIssue[]): ValidationIssue[] {
  return issues.map((issue) => ({
    path: issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment)),
    message: issue.message,
    code: issue.code,
  }));
}

/**
 * Parses `input` with `schema`, or throws `VALIDATION_FAILED` listing every issue.
 * `what` names the input in the message (e.g. `'storage key'`); the rejected value itself is never
 * echoed, since it may hold a secret.
 *
 * @throws {ValidationError} `VALIDATION_FAILED` when the input does not match.
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { parseInput } from 'digital-fabrica';
 * const port = parseInput(z.number().int().min(1), 8080, 'port'); // 8080
 * ```
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = toValidationIssues(result.error.issues);
  const first = issues[0];
  const where = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
  throw new ValidationError(`invalid ${what}${where}: ${first?.message ?? 'rejected'}`, issues, { cause: result.error });
}

/**
 * Wraps a schema into a reusable parser that throws `VALIDATION_FAILED`.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { createParser } from 'digital-fabrica';
 * const parseName = createParser(z.string().min(1), 'name');
 * parseName('ada'); // 'ada'
 * ```
 */
export function createParser<S extends z.ZodType>(schema: S, what: string): (input: unknown) => z.output<S> {
  return (input) => parseInput(schema, input, what);
}
