import { describe, inject, it } from 'vitest';

/**
 * Registers `title` as a skipped suite because the server it needs is missing, and says so
 * loudly. Only a local run can get here: under CI=true the global setup
 * (test/support/global-setup.ts) fails the whole run before any test file loads when
 * PostgreSQL or Redis cannot be started, so a missing server is never a silent skip in CI.
 */
export function skipWithoutServer(title: string, server: string): void {
  console.warn(`\n!!! ${title} SKIPPED — no ${server}: ${inject('serverNotes')}\n`);
  describe.skip(title, () => it(`needs ${server} (install it or set DATABASE_URL / REDIS_URL)`, () => undefined));
}
