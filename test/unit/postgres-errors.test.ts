import { describe, expect, it } from 'vitest';
import { AdapterClosedError, ConflictError, isFabricaError } from '../../src/core/errors.js';
import { classifyPgError, mapPgError } from '../../src/adapters/postgres/errors.js';

// Fabricated errors shaped like what `pg` and Node really throw: the server's ErrorResponse
// becomes a DatabaseError with the SQLSTATE in `code` (and values in `detail`); socket failures
// carry a Node `code`; the driver's own failures have fixed messages and no code.
const SECRET = 'hunter2-secret-value';
const db = (code: string, message = `server says ${SECRET}`): Error =>
  Object.assign(new Error(message), { name: 'error', code, severity: 'ERROR', detail: `Key (key)=(${SECRET}) already exists.` });
const socket = (code: string): Error => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -111, syscall: 'connect' });

describe('postgres error mapping', () => {
  const cases: [string, unknown, string, boolean][] = [
    ['unique violation 23505', db('23505'), 'CONFLICT', true],
    ['serialization failure 40001', db('40001'), 'CONFLICT', true],
    ['deadlock 40P01', db('40P01'), 'CONFLICT', true],
    ['connection refused', socket('ECONNREFUSED'), 'ADAPTER_UNAVAILABLE', true],
    ['connection reset', socket('ECONNRESET'), 'ADAPTER_UNAVAILABLE', true],
    ['socket timeout', socket('ETIMEDOUT'), 'ADAPTER_UNAVAILABLE', true],
    ['broken pipe', socket('EPIPE'), 'ADAPTER_UNAVAILABLE', true],
    ['DNS failure', socket('ENOTFOUND'), 'ADAPTER_UNAVAILABLE', true],
    ['"Connection terminated unexpectedly"', new Error('Connection terminated unexpectedly'), 'ADAPTER_UNAVAILABLE', true],
    ['"Connection terminated"', new Error('Connection terminated'), 'ADAPTER_UNAVAILABLE', true],
    ['pool connect timeout', new Error('timeout exceeded when trying to connect'), 'ADAPTER_UNAVAILABLE', true],
    ['connection timeout', new Error('Connection terminated due to connection timeout'), 'ADAPTER_UNAVAILABLE', true],
    ['a client that broke earlier', new Error('Client has encountered a connection error and is not queryable'), 'ADAPTER_UNAVAILABLE', true],
    ['admin shutdown 57P01 (pg_terminate_backend)', db('57P01'), 'ADAPTER_UNAVAILABLE', true],
    ['crash shutdown 57P02', db('57P02'), 'ADAPTER_UNAVAILABLE', true],
    ['cannot connect now 57P03', db('57P03'), 'ADAPTER_UNAVAILABLE', true],
    ['connection exception class 08 (08006)', db('08006'), 'ADAPTER_UNAVAILABLE', true],
    ['connection exception class 08 (08001)', db('08001'), 'ADAPTER_UNAVAILABLE', true],
    ['too many connections 53300', db('53300'), 'ADAPTER_UNAVAILABLE', true],
    ['statement timeout 57014', db('57014'), 'ADAPTER_UNAVAILABLE', true],
    ['happy-eyeballs AggregateError', Object.assign(new AggregateError([socket('ECONNREFUSED'), socket('ECONNREFUSED')], ''), { code: 'ECONNREFUSED' }), 'ADAPTER_UNAVAILABLE', true],
    ['AggregateError without a code', new AggregateError([socket('ECONNREFUSED')], 'all failed'), 'ADAPTER_UNAVAILABLE', true],
    ['a wrapped socket error', Object.assign(new Error('wrapper'), { cause: socket('ECONNRESET') }), 'ADAPTER_UNAVAILABLE', true],
    ['undefined table 42P01', db('42P01'), 'ADAPTER_SCHEMA_MISMATCH', false],
    ['undefined schema 3F000', db('3F000'), 'ADAPTER_SCHEMA_MISMATCH', false],
    ['undefined function 42883', db('42883'), 'ADAPTER_SCHEMA_MISMATCH', false],
    ['syntax error 42601', db('42601'), 'INTERNAL', false],
    ['check violation 23514', db('23514'), 'INTERNAL', false],
    ['insufficient privilege 42501', db('42501'), 'INTERNAL', false],
    ['a plain Error', new Error(`something odd ${SECRET}`), 'INTERNAL', false],
    ['a string', `thrown string ${SECRET}`, 'INTERNAL', false],
    ['null', null, 'INTERNAL', false],
    ['undefined', undefined, 'INTERNAL', false],
  ];

  for (const [what, err, code, retryable] of cases) {
    it(`maps ${what} to ${code} with the original as cause`, () => {
      expect(classifyPgError(err)).toBe(code);
      const mapped = mapPgError(err, 'storage.put');
      expect(isFabricaError(mapped)).toBe(true);
      expect(mapped.code).toBe(code);
      expect(mapped.retryable).toBe(retryable);
      expect(mapped.cause).toBe(err);
    });
  }

  it('never copies driver messages or details (which can quote parameter values) into ours', () => {
    for (const [, err] of cases) {
      const mapped = mapPgError(err, 'storage.put');
      expect(mapped.message).not.toContain(SECRET);
      expect(JSON.stringify(mapped.toJSON())).not.toContain(SECRET);
    }
  });

  it('records the SQLSTATE and the operation in details', () => {
    expect(mapPgError(db('23505'), 'storage.txn').details).toMatchObject({ backend: 'postgres', operation: 'storage.txn', code: '23505' });
  });

  it('passes our own errors through unchanged', () => {
    const closed = new AdapterClosedError();
    const conflict = new ConflictError('stale');
    expect(mapPgError(closed, 'storage.get')).toBe(closed);
    expect(mapPgError(conflict, 'storage.get')).toBe(conflict);
  });
});
