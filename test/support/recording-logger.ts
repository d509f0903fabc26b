import type { LogFields, Logger } from '../../src/core/logger.js';

/** One line a {@link recordingLogger} kept. */
export interface RecordedLine {
  readonly level: string;
  readonly message: string;
  readonly fields?: LogFields;
}

/** A logger that keeps every line, to assert on what was (and was not) logged. */
export function recordingLogger(): Logger & { readonly lines: RecordedLine[] } {
  const lines: RecordedLine[] = [];
  const log = (level: string) => (message: string, fields?: LogFields) => void lines.push({ level, message, ...(fields ? { fields } : {}) });
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
