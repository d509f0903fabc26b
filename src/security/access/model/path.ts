/**
 * Resource paths and resource patterns.
 *
 * A resource path is a `/`-separated list of segments, e.g. `projects/42/tasks/123`; its type is
 * the first segment. Paths are compared segment by segment and byte for byte, so `tasks/1` never
 * matches `tasks/10`. Every path has exactly ONE spelling, because a deny rule written for one
 * spelling must not be bypassed by another:
 * - no empty segments: a leading, trailing or doubled `/` is rejected, never stripped;
 * - no `.` or `..` segments (no traversal);
 * - no `%`: paths are never percent-decoded here, so hosts decode before checking and
 *   `tasks/a%2Fb` cannot alias `tasks/a/b`;
 * - no `*` (reserved for patterns), no control characters, no lone surrogates;
 * - non-ASCII text must be in Unicode NFC, so `café` has one spelling;
 * - at most {@link MAX_PATH_LENGTH} characters and {@link MAX_SEGMENTS} segments.
 * Matching is case-sensitive.
 */
import { z } from 'zod';
import { charCodeOf } from '../internal/strings.js';

/**
 * Longest resource path or pattern, in UTF-16 code units; longer ones fail with `VALIDATION_FAILED`.
 *
 * @example
 * ```ts
 * import { MAX_PATH_LENGTH } from 'digital-fabrica/security';
 * const fits = (path: string) => path.length <= MAX_PATH_LENGTH;
 * ```
 */
export const MAX_PATH_LENGTH = 1024;
/**
 * Most segments in a resource path or pattern; deeper ones fail with `VALIDATION_FAILED`.
 *
 * @example
 * ```ts
 * import { MAX_SEGMENTS } from 'digital-fabrica/security';
 * const fits = (path: string) => path.split('/').length <= MAX_SEGMENTS;
 * ```
 */
export const MAX_SEGMENTS = 32;

/**
 * Validates a resource path in one pass over its characters, allocating nothing.
 * Returns the number of segments, or a message saying what is wrong. This is the hot path of every check, so it
 * is hand-written (and reads characters through `charCodeOf`, see internal/strings.ts);
 * `resourcePathSchema` states the same rules with zod, and a property test holds the two equal.
 */
export function scanPath(text: string): number | string {
  const length = text.length;
  if (length === 0) return 'path must not be empty';
  if (length > MAX_PATH_LENGTH) return `path must be at most ${MAX_PATH_LENGTH} characters`;
  let segments = 0;
  let start = 0;
  let nonAscii = false;
  for (let i = 0; i < length; i++) {
    const c = charCodeOf(text, i);
    if (c < 128) {
      const kind = ASCII[c]!;
      if (kind === OK) continue;
      if (kind === SLASH) {
        const problem = segmentProblem(text, start, i);
        if (problem !== null) return problem;
        segments += 1;
        if (segments >= MAX_SEGMENTS) return `path must have at most ${MAX_SEGMENTS} segments`;
        start = i + 1;
        continue;
      }
      return FORBIDDEN[kind]!;
    }
    if (c <= 159) return FORBIDDEN[CONTROL]!;
    nonAscii = true;
  }
  const problem = segmentProblem(text, start, length);
  if (problem !== null) return problem;
  segments += 1;
  if (nonAscii) {
    if (!text.isWellFormed()) return 'path must be well-formed Unicode (no lone surrogates)';
    if (text.normalize('NFC') !== text) return 'path must be in Unicode NFC';
  }
  return segments;
}

// Character classes of ASCII, looked up per character on the hot path.
const OK = 0;
const SLASH = 1;
const CONTROL = 2;
const PERCENT = 3;
const STAR = 4;
const ASCII = new Uint8Array(128).map((_, c) => (c === 47 ? SLASH : c < 32 || c === 127 ? CONTROL : c === 37 ? PERCENT : c === 42 ? STAR : OK));
const FORBIDDEN: Record<number, string> = {
  [CONTROL]: 'path must not contain control characters',
  [PERCENT]: 'path must not contain "%" (decode percent-encoding before checking)',
  [STAR]: 'path must not contain "*" (wildcards belong in patterns)',
};

function segmentProblem(text: string, start: number, end: number): string | null {
  const size = end - start;
  if (size === 0) return 'path must not have empty segments (leading, trailing or double slash)';
  if (size <= 2 && charCodeOf(text, start) === 46 && (size === 1 || charCodeOf(text, start + 1) === 46)) return 'path must not contain "." or ".." segments';
  return null;
}

// One segment of a resource path, as a regular expression: the independent statement of the rules.
// eslint-disable-next-line no-control-regex
const SEGMENT = /^(?!\.\.?$)[^/%*\u0000-\u001f\u007f-\u009f]+$/;

/** zod schema of a resource path (the same rules as {@link scanPath}, stated declaratively). */
export const resourcePathSchema = z
  .string()
  .min(1, 'path must not be empty')
  .max(MAX_PATH_LENGTH, `path must be at most ${MAX_PATH_LENGTH} characters`)
  .refine((text) => text.split('/').every((segment) => SEGMENT.test(segment)), 'path has an empty, "." or ".." segment or a forbidden character')
  .refine((text) => text.split('/').length <= MAX_SEGMENTS, `path must have at most ${MAX_SEGMENTS} segments`)
  .refine((text) => text.isWellFormed(), 'path must be well-formed Unicode')
  .refine((text) => text.normalize('NFC') === text, 'path must be in Unicode NFC');

/** How a pattern is indexed. */
export type PatternKind = 'exact' | 'deep' | 'all' | 'wildcard';

/** A validated resource pattern in canonical form. */
export interface ResourcePattern {
  /** Canonical text: a lone type `tasks` becomes `tasks/**`. */
  readonly text: string;
  /** Canonical segments; `*` and `**` are wildcards. */
  readonly segments: readonly string[];
  /**
   * `exact`: no wildcard (`tasks/123`); `deep`: literal segments then `**` (`projects/42/**`);
   * `all`: just `**`; `wildcard`: contains a `*` segment (`projects/42/tasks/*`).
   */
  readonly kind: PatternKind;
  /** The resource type the pattern is limited to (its first segment), or `null` when that is a wildcard. */
  readonly type: string | null;
}

/**
 * Parses a resource pattern: segments as in a path, where a whole segment may be `*` (exactly one
 * segment) or, as the LAST segment only, `**` (zero or more segments). A pattern of one literal
 * segment names a type: `tasks` means `tasks/**` (the collection and everything under it).
 * `tasks/123` is one instance, not its children. Returns the pattern or a message.
 */
export function parsePattern(text: string): ResourcePattern | string {
  if (text.length === 0) return 'pattern must not be empty';
  if (text.length > MAX_PATH_LENGTH) return `pattern must be at most ${MAX_PATH_LENGTH} characters`;
  const raw = text.split('/');
  if (raw.length > MAX_SEGMENTS) return `pattern must have at most ${MAX_SEGMENTS} segments`;
  let wildcard = false;
  for (let i = 0; i < raw.length; i++) {
    const segment = raw[i]!;
    if (segment === '**') {
      if (i !== raw.length - 1) return '"**" may only be the last segment of a pattern';
      continue;
    }
    if (segment === '*') {
      wildcard = true;
      continue;
    }
    if (segment.includes('*')) return 'wildcards must be whole segments ("*" or "**")';
    const problem = scanPath(segment);
    if (typeof problem === 'string') return problem.replace('path', 'pattern');
  }
  const segments = raw.length === 1 && raw[0] !== '*' && raw[0] !== '**' ? [raw[0]!, '**'] : raw;
  const last = segments[segments.length - 1];
  const kind: PatternKind = wildcard ? 'wildcard' : segments.length === 1 && last === '**' ? 'all' : last === '**' ? 'deep' : 'exact';
  const first = segments[0]!;
  return { text: segments.join('/'), segments, kind, type: first === '*' || first === '**' ? null : first };
}

/**
 * Whether `pattern` matches the path with the given segments: the reference matcher, written for
 * clarity. The compiled index must agree with it (property-tested).
 */
export function patternMatches(pattern: readonly string[], path: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === '**') return true;
    if (i >= path.length) return false;
    if (p !== '*' && p !== path[i]) return false;
  }
  return pattern.length === path.length;
}

/** Splits a validated path into its segments. */
export function segmentsOf(text: string): string[] {
  return text.split('/');
}
