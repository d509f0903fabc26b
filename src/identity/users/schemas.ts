/**
 * The users resource: zod schemas for what the REST endpoints (`POST /api/users`,
 * `GET/PUT/DELETE /api/users/:id`) accept and return. Exported so an HTTP layer or a host can
 * validate bodies with exactly the rules the service applies.
 */
import { z } from 'zod';
import { normaliseEmail } from './email.js';

/**
 * Account states. Only `active` users can sign in.
 *
 * @example
 * ```ts
 * import { USER_STATUSES } from 'digital-fabrica/identity';
 * console.log(USER_STATUSES); // ['active', 'suspended', 'pending']
 * ```
 */
export const USER_STATUSES = ['active', 'suspended', 'pending'] as const;

/** An account state. */
export type UserStatus = (typeof USER_STATUSES)[number];

/**
 * An email address, normalised for uniqueness (trimmed, NFC, lower-cased, IDNA domain): the
 * output is what is stored and compared.
 *
 * @example
 * ```ts
 * import { emailSchema } from 'digital-fabrica/identity';
 * console.log(emailSchema.parse('  Ada@Example.COM ')); // 'ada@example.com'
 * ```
 */
export const emailSchema = z
  .string()
  .max(320)
  .transform((value, ctx) => {
    const email = normaliseEmail(value);
    if (email === null) {
      ctx.addIssue({ code: 'custom', message: 'not a valid email address' });
      return z.NEVER;
    }
    return email;
  });

/**
 * A display name: 1–100 characters after trimming, no control characters.
 *
 * @example
 * ```ts
 * import { displayNameSchema } from 'digital-fabrica/identity';
 * displayNameSchema.parse('  Ada  '); // 'Ada'
 * ```
 */
export const displayNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .refine((v) => v.isWellFormed() && !/\p{Cc}/u.test(v), { message: 'display name contains control characters' });

/**
 * The spec's quota tier: an integer multiplier of the base quota, 0–100 (default 1).
 *
 * @example
 * ```ts
 * import { tierSchema } from 'digital-fabrica/identity';
 * tierSchema.parse(3); // 3
 * ```
 */
export const tierSchema = z.number().int().min(0).max(100);

/**
 * An account state.
 *
 * @example
 * ```ts
 * import { userStatusSchema } from 'digital-fabrica/identity';
 * userStatusSchema.parse('suspended'); // 'suspended'
 * ```
 */
export const userStatusSchema = z.enum(USER_STATUSES);

/**
 * A tenant id, as used across the SDK.
 *
 * @example
 * ```ts
 * import { tenantIdSchema } from 'digital-fabrica/identity';
 * tenantIdSchema.parse('acme'); // 'acme'
 * ```
 */
export const tenantIdSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'tenant ids use A-Z a-z 0-9 _ . - (1–64)' });

/**
 * A role name.
 *
 * @example
 * ```ts
 * import { roleNameSchema } from 'digital-fabrica/identity';
 * roleNameSchema.parse('tasks:admin'); // 'tasks:admin'
 * ```
 */
export const roleNameSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'role names use A-Z a-z 0-9 _ . : - (1–64)' });

/**
 * Role bindings per tenant: `{ acme: ['admin'], beta: ['viewer'] }`.
 *
 * @example
 * ```ts
 * import { tenantRolesSchema } from 'digital-fabrica/identity';
 * tenantRolesSchema.parse({ acme: ['viewer', 'admin', 'admin'] }); // { acme: ['admin', 'viewer'] }
 * ```
 */
export const tenantRolesSchema = z
  .record(tenantIdSchema, z.array(roleNameSchema).max(64))
  .refine((r) => Object.keys(r).length <= 256, { message: 'at most 256 tenants per user' })
  .transform((r) => Object.fromEntries(Object.entries(r).map(([t, roles]) => [t, [...new Set(roles)].sort()])));

/**
 * A new password: 8–1024 characters (NIST SP 800-63B §5.1.1.2: at least 8, allow long
 * passphrases, no composition rules), no lone surrogates.
 *
 * @example
 * ```ts
 * import { passwordSchema } from 'digital-fabrica/identity';
 * passwordSchema.safeParse('short').success; // false
 * ```
 */
export const passwordSchema = z
  .string()
  .min(8)
  .max(1024)
  .refine((v) => v.isWellFormed(), { message: 'password contains a lone surrogate' });

/**
 * An EIP-55 checksummed Ethereum address.
 *
 * @example
 * ```ts
 * import { ethereumAddressSchema } from 'digital-fabrica/identity';
 * ethereumAddressSchema.safeParse('0x9858EfFD232B4033E47d90003D41EC34EcaEda94').success; // true
 * ```
 */
export const ethereumAddressSchema = z.string().regex(/^0x[0-9a-fA-F]{40}$/, { message: 'not an Ethereum address' });

/**
 * A user as the service returns it (never with credentials).
 *
 * @example
 * ```ts
 * import { userSchema, type User } from 'digital-fabrica/identity';
 * const check = (body: unknown): User => userSchema.parse(body);
 * ```
 */
export const userSchema = z.object({
  /** UUIDv7: sorts by creation time. */
  id: z.string(),
  /** Normalised email, or `null` for accounts created by Sign-In with Ethereum. */
  email: z.string().nullable(),
  displayName: z.string(),
  tier: tierSchema,
  status: userStatusSchema,
  roles: z.record(z.string(), z.array(z.string())),
  /** Ethereum addresses linked by Sign-In with Ethereum (EIP-55). */
  addresses: z.array(z.string()),
  /** Whether a password is set. */
  hasPassword: z.boolean(),
  /** Epoch ms. */
  createdAt: z.number(),
  /** Epoch ms. */
  updatedAt: z.number(),
  /** Storage version: pass it as `ifVersion` to update only an unchanged user. */
  version: z.number(),
});

/** A user (see {@link userSchema}). */
export type User = z.output<typeof userSchema>;

/**
 * Body of `POST /api/users`.
 *
 * @example
 * ```ts
 * import { createUserInputSchema } from 'digital-fabrica/identity';
 * const input = createUserInputSchema.parse({ email: 'Ada@Example.com', displayName: 'Ada', password: 'correct horse battery' });
 * console.log(input.email, input.tier); // 'ada@example.com' 1
 * ```
 */
export const createUserInputSchema = z.strictObject({
  email: emailSchema.nullable().optional(),
  displayName: displayNameSchema,
  tier: tierSchema.default(1),
  status: userStatusSchema.default('active'),
  roles: tenantRolesSchema.default({}),
  password: passwordSchema.optional(),
});

/** Input of `users.create` (before defaults). */
export type CreateUserInput = z.input<typeof createUserInputSchema>;

/**
 * Body of `PUT /api/users/:id`: any subset of the fields; passwords change through their own
 * methods.
 *
 * @example
 * ```ts
 * import { updateUserInputSchema } from 'digital-fabrica/identity';
 * console.log(updateUserInputSchema.parse({ tier: 3 })); // { tier: 3 }
 * ```
 */
export const updateUserInputSchema = z
  .strictObject({
    email: emailSchema.nullable().optional(),
    displayName: displayNameSchema.optional(),
    tier: tierSchema.optional(),
    status: userStatusSchema.optional(),
    roles: tenantRolesSchema.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'nothing to update' });

/** Input of `users.update`. */
export type UpdateUserInput = z.input<typeof updateUserInputSchema>;

/**
 * Options of a listing (`GET /api/users?cursor=&limit=`).
 *
 * @example
 * ```ts
 * import { listUsersInputSchema } from 'digital-fabrica/identity';
 * listUsersInputSchema.parse({ limit: 50 }); // { limit: 50 }
 * ```
 */
export const listUsersInputSchema = z
  .strictObject({
    cursor: z.string().min(1).max(1024).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
  })
  .optional();

/** Input of `users.list`. */
export type ListUsersInput = z.input<typeof listUsersInputSchema>;

/** One page of users. */
export interface UserPage {
  /** Users in creation order. */
  readonly items: readonly User[];
  /** Pass to the next call, or `null` at the end. */
  readonly cursor: string | null;
}
