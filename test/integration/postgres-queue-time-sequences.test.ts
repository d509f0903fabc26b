import { describe, inject, it } from 'vitest';
import { quoteIdentifier } from '../../src/adapters/postgres/migrations.js';
import { runQueueSequence } from '../../src/adapters/testing/queue-sequences.js';
import { sequenceSeeds, sequenceSteps } from '../../src/adapters/testing/support.js';
import { skipWithoutServer } from '../support/missing-server.js';
import { useQueueSchema } from '../support/postgres-queue-harness.js';

const url = inject('databaseUrl');

/**
 * The contract's random operation sequences with time in them, on PostgreSQL: this schema's
 * `queue_now()` (every queue function's only clock) reads a one-row table the test sets, so the
 * server's time moves exactly as the memory reference's manual clock does. Delays, short leases
 * that expire and are reaped, retries and hand-backs after a pause, aging, rate caps and
 * retention then run through the same calls on both, and every outcome — timestamps and
 * `nextInMs` included — must match. (Redis takes its time from the server's `TIME`, which no test
 * can stop; its time rules are held by the contract's scenarios.)
 */
if (url === '') {
  skipWithoutServer('postgres queue: random sequences with a controlled clock', 'PostgreSQL server');
} else {
  describe('postgres queue: random sequences with a controlled clock', () => {
    // No background sweep: its reaping would run on its own schedule, not at the sequence's steps.
    const db = useQueueSchema(url, 'dftime', { sweepIntervalMs: 0 });
    const schema = (): string => quoteIdentifier(db.schema);
    const start = Date.UTC(2026, 0, 1);

    async function controlledClock(): Promise<{ start: number; set(now: number): Promise<void> }> {
      await db.pool.query(`CREATE TABLE IF NOT EXISTS ${schema()}.test_clock (now_ms bigint NOT NULL)`);
      await db.pool.query(`DELETE FROM ${schema()}.test_clock`);
      await db.pool.query(`INSERT INTO ${schema()}.test_clock VALUES ($1)`, [start]);
      await db.pool.query(`CREATE OR REPLACE FUNCTION ${schema()}.queue_now() RETURNS bigint LANGUAGE sql VOLATILE AS $fn$ SELECT now_ms FROM ${schema()}.test_clock $fn$`);
      return { start, set: async (now) => void (await db.pool.query(`UPDATE ${schema()}.test_clock SET now_ms = $1`, [now])) };
    }

    for (const seed of sequenceSeeds('QUEUE')) {
      it(`seed ${seed}: every outcome, timestamps included, matches the memory reference`, async () => {
        const time = await controlledClock();
        const queue = `time${seed}`;
        await runQueueSequence([db.open(queue), db.open(queue)], { seed, steps: sequenceSteps('QUEUE', 400), time });
      }, 120_000);
    }
  });
}
