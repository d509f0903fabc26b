/** Login, MFA, refresh, logout, Sign-In with Ethereum and the JWKS. */
import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../internal/route.js';
import {
  jwksResponseSchema,
  loginBodySchema,
  mfaBodySchema,
  mfaConfirmBodySchema,
  signInResponseSchema,
  noQuerySchema,
  refreshBodySchema,
  siweVerifyBodySchema,
  tokensResponseSchema,
} from '../schemas.js';
import type { HttpSignInResult, HttpTokens } from '../services.js';

// Token responses must never be stored by caches (RFC 6749 §5.1).
const NO_STORE = { 'cache-control': 'no-store' };

const tokensBody = (tokens: HttpTokens) => ({
  tokenType: 'Bearer' as const,
  accessToken: tokens.accessToken,
  accessTokenExpiresAt: tokens.accessTokenExpiresAt,
  refreshToken: tokens.refreshToken,
  refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
  sessionId: tokens.sessionId,
});

const signInBody = (result: HttpSignInResult) =>
  result.status === 'mfa_required'
    ? { status: 'mfa_required' as const, mfaToken: result.challenge, mfaTokenExpiresAt: result.challengeExpiresAt }
    : { status: 'authenticated' as const, userId: result.user.id, ...tokensBody(result.tokens) };

/** The authentication routes. */
export const authRoutes: readonly AnyRoute[] = [
  defineRoute({
    method: 'POST',
    path: '/api/auth/login',
    operationId: 'login',
    summary: 'Log in with email and password; a second step follows when the account has MFA',
    tags: ['auth'],
    auth: 'none',
    query: noQuerySchema,
    body: loginBodySchema,
    responses: [
      { status: 200, description: 'Tokens (`status: authenticated`) or an MFA step (`status: mfa_required`)', schema: signInResponseSchema },
    ],
    errors: ['VALIDATION_FAILED', 'AUTH_INVALID_CREDENTIALS', 'AUTH_LOCKED', 'RATE_LIMITED'],
    async handle(ctx) {
      return { body: signInBody(await ctx.services.identity.signIn(ctx.body)), headers: NO_STORE };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/auth/mfa',
    operationId: 'completeMfa',
    summary: 'Second login step: a TOTP code or a recovery code',
    tags: ['auth'],
    auth: 'none',
    query: noQuerySchema,
    body: mfaBodySchema,
    responses: [{ status: 200, description: 'Tokens', schema: signInResponseSchema }],
    errors: ['VALIDATION_FAILED', 'AUTH_INVALID_CREDENTIALS', 'AUTH_TOKEN_INVALID', 'AUTH_TOKEN_EXPIRED', 'AUTH_LOCKED'],
    async handle(ctx) {
      const { mfaToken, ...proof } = ctx.body;
      const input = 'code' in proof ? { challenge: mfaToken, code: proof.code } : { challenge: mfaToken, recoveryCode: proof.recoveryCode };
      return { body: signInBody(await ctx.services.identity.completeSignIn(input)), headers: NO_STORE };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/auth/mfa/enroll',
    operationId: 'beginMfaEnrollment',
    summary: "Start TOTP enrollment for the caller's own account",
    tags: ['auth'],
    auth: 'required',
    authorization: 'the caller, for their own account',
    query: noQuerySchema,
    responses: [{ status: 200, description: 'The shared secret and its otpauth URI', schema: z.object({ secret: z.string(), otpauthUri: z.string(), expiresAt: z.number() }) }],
    errors: ['AUTH_REQUIRED', 'CONFLICT'],
    async handle(ctx) {
      const enrollment = await ctx.services.identity.mfa.beginEnrollment(ctx.user().userId);
      return { body: { secret: enrollment.secret, otpauthUri: enrollment.otpauthUri, expiresAt: enrollment.expiresAt }, headers: NO_STORE };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/auth/mfa/confirm',
    operationId: 'confirmMfaEnrollment',
    summary: 'Confirm TOTP enrollment with a first code; returns one-time recovery codes',
    tags: ['auth'],
    auth: 'required',
    authorization: 'the caller, for their own account',
    query: noQuerySchema,
    body: mfaConfirmBodySchema,
    responses: [{ status: 200, description: 'Recovery codes (shown once)', schema: z.object({ recoveryCodes: z.array(z.string()) }) }],
    errors: ['VALIDATION_FAILED', 'AUTH_REQUIRED', 'AUTH_INVALID_CREDENTIALS'],
    async handle(ctx) {
      const { recoveryCodes } = await ctx.services.identity.mfa.confirmEnrollment(ctx.user().userId, ctx.body.code);
      return { body: { recoveryCodes }, headers: NO_STORE };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/auth/refresh',
    operationId: 'refresh',
    summary: 'Exchange a refresh token for new tokens (rotation; reuse revokes the session)',
    tags: ['auth'],
    auth: 'none',
    query: noQuerySchema,
    body: refreshBodySchema,
    responses: [{ status: 200, description: 'Tokens', schema: tokensResponseSchema }],
    errors: ['VALIDATION_FAILED', 'AUTH_TOKEN_INVALID', 'AUTH_TOKEN_EXPIRED', 'AUTH_TOKEN_REUSED'],
    async handle(ctx) {
      return { body: tokensBody(await ctx.services.identity.refresh(ctx.body.refreshToken)), headers: NO_STORE };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/auth/logout',
    operationId: 'logout',
    summary: "End the caller's session (its refresh tokens stop working, and so do its access tokens)",
    tags: ['auth'],
    auth: 'required',
    authorization: 'the caller, for their own session',
    query: noQuerySchema,
    responses: [{ status: 204, description: 'Logged out' }],
    errors: ['AUTH_REQUIRED', 'AUTH_TOKEN_INVALID'],
    async handle(ctx) {
      const principal = ctx.user();
      if (principal.sessionId !== undefined) await ctx.services.identity.sessions.revoke(principal.userId, principal.sessionId);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/auth/siwe/nonce',
    operationId: 'siweNonce',
    summary: 'A fresh nonce for a Sign-In with Ethereum (EIP-4361) message',
    tags: ['auth'],
    auth: 'none',
    query: noQuerySchema,
    responses: [{ status: 200, description: 'The nonce', schema: z.object({ nonce: z.string(), expiresAt: z.number() }) }],
    errors: ['RATE_LIMITED'],
    async handle(ctx) {
      const { nonce, expiresAt } = await ctx.services.identity.siwe.issueNonce();
      return { body: { nonce, expiresAt }, headers: NO_STORE };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/auth/siwe/verify',
    operationId: 'siweVerify',
    summary: 'Verify a signed EIP-4361 message and sign the wallet in',
    tags: ['auth'],
    auth: 'none',
    query: noQuerySchema,
    body: siweVerifyBodySchema,
    responses: [{ status: 200, description: 'Tokens, or an MFA step for accounts with MFA', schema: signInResponseSchema }],
    errors: ['VALIDATION_FAILED', 'AUTH_SIWE_INVALID', 'ACCESS_DENIED'],
    async handle(ctx) {
      return { body: signInBody(await ctx.services.identity.signInWithEthereum(ctx.body)), headers: NO_STORE };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/.well-known/jwks.json',
    operationId: 'jwks',
    summary: 'The public keys that verify access tokens (RFC 7517)',
    tags: ['auth'],
    auth: 'none',
    query: noQuerySchema,
    responses: [{ status: 200, description: 'JWKS', schema: jwksResponseSchema }],
    errors: [],
    async handle(ctx) {
      const jwks = await ctx.services.identity.jwks();
      // Short max-age: verifiers must see a rotated key soon after it is published.
      return { body: { keys: jwks.keys }, headers: { 'cache-control': 'public, max-age=300' } };
    },
  }),
];
