/**
 * Security: the spec's encryption system (AES-256-GCM with keyrings and streaming, RSA-4096-OAEP
 * and hybrid encryption, SHA-3 hashing, HMAC, HKDF, password hashing) and its access control
 * (resource-level RBAC with inheritance, tenants, deny rules and explanations).
 *
 * ```ts
 * import { AesKey, encrypt, decrypt, hashPassword, createAccessControl } from 'digital-fabrica/security';
 * ```
 *
 * @module
 */
export * from './primitives.js';
export * from './access/index.js';
