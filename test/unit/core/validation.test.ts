import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createParser, parseInput } from '../../../src/core/validation.js';
import { ValidationError } from '../../../src/core/errors.js';

describe('parseInput', () => {
  const schema = z.strictObject({ email: z.email(), age: z.number().int().min(0), tags: z.array(z.string()).max(2) });

  it('returns the parsed value', () => {
    expect(parseInput(schema, { email: 'a@b.co', age: 3, tags: [] }, 'user')).toEqual({ email: 'a@b.co', age: 3, tags: [] });
  });

  it('throws VALIDATION_FAILED listing every issue with its path', () => {
    let caught: unknown;
    try {
      parseInput(schema, { email: 'nope', age: -1, tags: ['a', 'b', 'c'] }, 'user');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const err = caught as ValidationError;
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.issues.map((i) => i.path.join('.')).sort()).toEqual(['age', 'email', 'tags']);
    expect(err.message).toContain('invalid user');
  });

  it('never echoes the rejected value in the message', () => {
    const secret = 'hunter2-super-secret';
    try {
      parseInput(z.number(), secret, 'pin');
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
      expect(JSON.stringify(err)).not.toContain(secret);
    }
  });

  it('builds reusable parsers', () => {
    const parse = createParser(z.string().min(2), 'name');
    expect(parse('ok')).toBe('ok');
    expect(() => parse('x')).toThrow(ValidationError);
  });
});
