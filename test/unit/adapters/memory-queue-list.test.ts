import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ManualClock } from '../../../src/core/clock.js';
import { createMemoryQueue, MemoryQueueState } from '../../../src/adapters/memory/index.js';
import type { QueueAdapter, TaskListQuery } from '../../../src/adapters/queue.js';

/**
 * The memory queue lists a page by keeping the `limit + 1` smallest matching ids instead of
 * sorting every match. Tasks usually arrive in id order, but not always: two handles over one
 * state draw ids from generators of their own, so within one millisecond their ids interleave
 * in no relation to arrival. Every page sequence must still equal the sorted, filtered ids.
 */
describe('memory queue listing', () => {
  it('pages through the matching ids in order, each once, whatever order the tasks arrived in', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ handle: fc.integer({ min: 0, max: 1 }), owner: fc.constantFrom('ada', 'bob'), tick: fc.boolean() }), { minLength: 1, maxLength: 60, size: 'max' }),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom<'ada' | 'bob' | null>('ada', 'bob', null),
        async (arrivals, limit, owner) => {
          const clock = new ManualClock(Date.UTC(2026, 0, 1));
          const state = new MemoryQueueState();
          const handles: QueueAdapter[] = [createMemoryQueue({ state, clock }), createMemoryQueue({ state, clock })];
          const expected: string[] = [];
          for (const a of arrivals) {
            if (a.tick) clock.advance(1);
            const { task } = await handles[a.handle]!.enqueue({ type: 'job', tenantId: 'acme', payload: null, ownerId: a.owner });
            if (owner === null || a.owner === owner) expected.push(task.taskId);
          }
          expected.sort();
          const seen: string[] = [];
          let cursor: string | null = null;
          for (let pages = 0; pages <= arrivals.length; pages++) {
            const query: TaskListQuery = { tenantId: 'acme', limit, ...(owner === null ? {} : { ownerId: owner }), ...(cursor === null ? {} : { cursor }) };
            const page = await handles[pages % 2]!.list(query);
            expect(page.items.length).toBeLessThanOrEqual(limit);
            seen.push(...page.items.map((t) => t.id));
            cursor = page.cursor;
            if (cursor === null) break;
          }
          expect(seen).toEqual(expected);
          for (const h of handles) await h.close();
        },
      ),
      { numRuns: 300 },
    );
  });
});
