/** The end-to-end suite on one example server with the memory backends, plus rate limiting. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeApi, SUITE_ENV } from './api-suite.js';
import { call, startServer, type ServerProcess } from './support.js';

describeApi('memory, one process', async () => {
  const server = await startServer({ ...SUITE_ENV });
  return {
    a: server.url,
    b: server.url,
    admin: { email: SUITE_ENV.FABRICA_ADMIN_EMAIL, password: SUITE_ENV.FABRICA_ADMIN_PASSWORD },
    stop: () => server.stop(),
  };
});

describe('rate limiting end to end (memory)', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    // 3 requests per minute: the 4th is refused however fast or slow the machine is.
    server = await startServer({ FABRICA_RATE_LIMIT: '3/60000' });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('answers 429 with Retry-After and RateLimit headers once the limit is used, per client', async () => {
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 4; i++) {
      last = await call(server.url, 'GET', '/api/health');
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.body).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryable: true });
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(last!.headers.get('ratelimit-policy')).toBe('"default";q=3;w=60');
    expect(last!.headers.get('ratelimit')).toMatch(/^"default";r=0;t=\d+$/);
  });
});
