/**
 * The SDK logs through a host-supplied logger (pino, winston and console all fit this shape).
 * Fields must never carry secrets: callers pass ids and codes, not tokens or passwords.
 */

/** Structured fields attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Minimal structural logger; pino and console satisfy it. */
export interface Logger {
  /** Verbose diagnostics. */
  debug(message: string, fields?: LogFields): void;
  /** Normal operation worth recording. */
  info(message: string, fields?: LogFields): void;
  /** Something degraded but handled. */
  warn(message: string, fields?: LogFields): void;
  /** Something failed. */
  error(message: string, fields?: LogFields): void;
}

/**
 * A logger that drops everything: the default, since a library should be silent unless asked.
 *
 * @example
 * ```ts
 * import { silentLogger } from 'digital-fabrica';
 * silentLogger.info('never printed');
 * ```
 */
export const silentLogger: Logger = Object.freeze({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});
