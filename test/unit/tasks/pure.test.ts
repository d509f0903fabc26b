import { describe, expect, it } from 'vitest';
import { retryDelay } from '../../../src/tasks/policy/backoff.js';
import { jainIndex, shareErrors } from '../../../src/tasks/policy/fairness.js';
import { msUntilToken, refillTokens } from '../../../src/tasks/policy/rate.js';
import { taskOrderKey } from '../../../src/tasks/policy/fair-queue.js';

describe('retryDelay', () => {
  const backoff = { delayMs: 1_000, maxDelayMs: 10_000, jitter: 0 };
  it('doubles per attempt up to the maximum', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => retryDelay(backoff, a, () => 0.5))).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  });
  it('draws the jitter fraction at random, never below zero or above the full delay', () => {
    const jittered = { ...backoff, jitter: 0.5 };
    expect(retryDelay(jittered, 2, () => 0)).toBe(2_000);
    expect(retryDelay(jittered, 2, () => 0.999999)).toBe(1_000);
    expect(retryDelay({ ...backoff, jitter: 1 }, 1, () => 0.999999)).toBe(0);
  });
  it('survives absurd attempt numbers', () => {
    expect(retryDelay(backoff, 10_000, () => 0)).toBe(10_000);
  });
});

describe('token bucket', () => {
  it('refills at the rate up to the burst, never backwards in time', () => {
    expect(refillTokens(0, 0, 500, 4, 10)).toBe(2);
    expect(refillTokens(0, 0, 10_000, 4, 10)).toBe(10);
    expect(refillTokens(3, 1_000, 0, 4, 10)).toBe(3);
  });
  it('says how long until the next whole token', () => {
    expect(msUntilToken(1.5, 2)).toBe(0);
    expect(msUntilToken(0, 4)).toBe(250);
    expect(msUntilToken(0.75, 1)).toBe(250);
  });
});

describe('fairness measures', () => {
  it("Jain's index is 1 for equal shares and 1/n for one taker", () => {
    expect(jainIndex([3, 3, 3])).toBe(1);
    expect(jainIndex([9, 0, 0])).toBeCloseTo(1 / 3);
    expect(jainIndex([])).toBe(1);
  });
  it('share errors compare service shares with weight shares', () => {
    const errors = shareErrors([100, 200, 400], [1, 2, 4]);
    for (const e of errors) expect(e).toBeCloseTo(0);
    expect(shareErrors([110, 200, 390], [1, 2, 4])[0]).toBeCloseTo(0.1);
  });
});

describe('taskOrderKey', () => {
  it('orders by priority (higher first), then sequence, exactly at the extremes', () => {
    expect(taskOrderKey(1000, 5)).toBeLessThan(taskOrderKey(999, 1));
    expect(taskOrderKey(0, 1)).toBeLessThan(taskOrderKey(0, 2));
    const last = taskOrderKey(-1000, 2 ** 42 - 1);
    expect(Number.isSafeInteger(last)).toBe(true);
    expect(last).toBeLessThan(2 ** 53);
  });
});
