/**
 * Identifier rules shared by the policy model. Tenants and roles end up inside storage keys and
 * resource paths, so they use a small, unambiguous alphabet; user ids are opaque (hashed before
 * they reach a key) and only need to be printable text.
 */
import { z } from 'zod';

/** Largest user id, in UTF-16 code units. */
export const MAX_USER_ID_LENGTH = 256;

// C0 and C1 control characters: they break logs, terminals and some drivers' wire formats.
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/** A tenant id: `acme`, `org-42`. Also a path segment of the `tenants/<id>/...` form. */
export const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A role name: `editor`, `project-admin`, `billing:viewer`. */
export const ROLE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** zod schema of a tenant id. */
export const tenantSchema = z.string().regex(TENANT_PATTERN, 'tenant must be 1-64 characters from A-Z a-z 0-9 _ . - starting with a letter or digit');

/** zod schema of a role name. */
export const roleNameSchema = z.string().regex(ROLE_PATTERN, 'role must be 1-64 characters from A-Z a-z 0-9 _ . : - starting with a letter or digit');

/** zod schema of a user id as stored in bindings and direct grants. */
export const userIdSchema = z
  .string()
  .min(1, 'user id must not be empty')
  .max(MAX_USER_ID_LENGTH, `user id must be at most ${MAX_USER_ID_LENGTH} characters`)
  .refine((id) => !CONTROL_CHARS.test(id), 'user id must not contain control characters')
  .refine((id) => id.isWellFormed(), 'user id must be well-formed Unicode');
