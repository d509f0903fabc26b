/**
 * Email normalisation for uniqueness: one mailbox, one account, however it is typed.
 *
 * - Trimmed and NFC-normalised (composed and decomposed accents are the same address).
 * - Lower-cased as a whole. RFC 5321 §2.4 lets a server treat local parts case-sensitively, but
 *   virtually none do, and two accounts for `Ada@x` and `ada@x` are a takeover risk.
 * - The domain in its ASCII (IDNA/punycode) form, so `bücher.example` and
 *   `xn--bcher-kva.example` collide as they should.
 * - No provider-specific rewriting (dots or `+tags` in Gmail addresses): that is policy, not
 *   syntax, and would merge distinct mailboxes elsewhere.
 */

// RFC 5322 dot-atom local part (no quoted strings, no comments), at most 64 octets (RFC 5321 §4.5.3.1.1).
const LOCAL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/u;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Normalises an email address, or returns `null` when it is not a plausible mailbox address. */
export function normaliseEmail(input: string): string | null {
  const trimmed = input.trim().normalize('NFC');
  const at = trimmed.lastIndexOf('@');
  if (at <= 0 || at === trimmed.length - 1) return null;
  const local = trimmed.slice(0, at).toLowerCase();
  const rawDomain = trimmed.slice(at + 1);
  // The URL parser would happily drop a port, path or query: only a bare host name may pass.
  if (!/^[^\s:/?#[\]@\\%<>"]+$/u.test(rawDomain)) return null;
  let domain: string;
  try {
    domain = new URL(`http://${rawDomain}`).hostname;
  } catch {
    return null;
  }
  if (local.length > 64 || !LOCAL.test(local)) return null;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^[0-9]+$/.test(labels.at(-1)!)) return null;
  const email = `${local}@${domain}`;
  // RFC 5321 §4.5.3.1.3 caps a path at 256 octets including the angle brackets.
  return new TextEncoder().encode(email).length <= 254 ? email : null;
}
