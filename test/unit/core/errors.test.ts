import { describe, expect, it } from 'vitest';
import {
  AdapterUnavailableError,
  ConflictError,
  ERROR_DEFAULTS,
  FabricaError,
  hasErrorCode,
  isFabricaError,
  ValidationError,
} from '../../../src/errors.js';

describe('FabricaError', () => {
  it('carries code, default status and retryability, details and cause', () => {
    const cause = new Error('driver said no');
    const err = new AdapterUnavailableError('database unreachable', { cause, details: { backend: 'postgres' } });
    expect(err).toBeInstanceOf(FabricaError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('AdapterUnavailableError');
    expect(err.code).toBe('ADAPTER_UNAVAILABLE');
    expect(err.status).toBe(503);
    expect(err.retryable).toBe(true);
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ backend: 'postgres' });
  });

  it('lets options override status and retryability', () => {
    const err = new FabricaError('CONFLICT', 'x', { status: 412, retryable: false });
    expect([err.status, err.retryable]).toEqual([412, false]);
  });

  it('serialises without stack or cause', () => {
    const err = new ConflictError('taken', { cause: new Error('secret detail'), details: { key: 'k' } });
    const json = JSON.parse(JSON.stringify(err)) as Record<string, unknown>;
    expect(json).toEqual({ name: 'ConflictError', code: 'CONFLICT', message: 'taken', status: 409, retryable: true, details: { key: 'k' } });
    expect(JSON.stringify(err)).not.toContain('secret detail');
  });

  it('is recognised across copies of the package through the Symbol.for brand', () => {
    const foreign = Object.assign(new Error('from another copy'), { code: 'NOT_FOUND', [Symbol.for('digital-fabrica.error')]: true });
    expect(isFabricaError(foreign)).toBe(true);
    expect(hasErrorCode(foreign, 'NOT_FOUND')).toBe(true);
    expect(isFabricaError(new Error('plain'))).toBe(false);
    expect(isFabricaError({ code: 'NOT_FOUND' })).toBe(false);
    expect(isFabricaError(null)).toBe(false);
  });

  it('lists validation issues on ValidationError', () => {
    const err = new ValidationError('bad', [{ path: ['a', 0], message: 'm', code: 'too_big' }]);
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.status).toBe(400);
    expect(err.issues).toHaveLength(1);
    expect(err.details).toEqual({ issues: err.issues });
  });

  it('has a default status for every code', () => {
    for (const [code, d] of Object.entries(ERROR_DEFAULTS)) {
      expect(d.status, code).toBeGreaterThanOrEqual(400);
      expect(d.status, code).toBeLessThan(600);
    }
  });
});
