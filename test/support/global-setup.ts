import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres-server.js';
import { startRedis } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the test PostgreSQL server, or '' when none is available (skip with a loud message). */
    databaseUrl: string;
    /** Connection string of the test Redis server, or '' when none is available. */
    redisUrl: string;
    /** Why a server is missing, for the skip message. */
    serverNotes: string;
  }
}

/**
 * Starts throwaway PostgreSQL and Redis servers for the whole run (unless DATABASE_URL /
 * REDIS_URL point at existing ones) and stops them afterwards. Without the binaries the suites
 * that need them skip loudly, except under CI=true, where a missing server fails the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: (() => Promise<void>)[] = [];
  const notes: string[] = [];
  const ci = process.env.CI === 'true' || process.env.CI === '1';

  const [pg, redis] = await Promise.allSettled([
    process.env.DATABASE_URL ? Promise.resolve({ url: process.env.DATABASE_URL, stop: async () => undefined }) : startPostgres(),
    process.env.REDIS_URL ? Promise.resolve({ url: process.env.REDIS_URL, stop: async () => undefined }) : startRedis(),
  ]);
  let databaseUrl = '';
  let redisUrl = '';
  if (pg.status === 'fulfilled') {
    databaseUrl = pg.value.url;
    stops.push(pg.value.stop);
  } else {
    notes.push(`PostgreSQL unavailable: ${String((pg.reason as Error)?.message ?? pg.reason)}`);
  }
  if (redis.status === 'fulfilled') {
    redisUrl = redis.value.url;
    stops.push(redis.value.stop);
  } else {
    notes.push(`Redis unavailable: ${String((redis.reason as Error)?.message ?? redis.reason)}`);
  }
  if (notes.length > 0) {
    const banner = `\n${'!'.repeat(78)}\n${notes.join('\n')}\n${'!'.repeat(78)}\n`;
    if (ci) {
      await Promise.all(stops.map((s) => s()));
      throw new Error(`CI=true requires real servers for the adapter suites.${banner}`);
    }
    console.warn(`${banner}The suites needing these servers are SKIPPED. Install postgresql and redis-server to run them.\n`);
  }
  project.provide('databaseUrl', databaseUrl);
  project.provide('redisUrl', redisUrl);
  project.provide('serverNotes', notes.join('; '));
  return async () => {
    await Promise.allSettled(stops.map((s) => s()));
  };
}
