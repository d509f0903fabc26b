import { hasErrorCode } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';

/** Options of a reservation heartbeat. */
export interface KeepAliveOptions {
  /** Lease each renewal asks for, in ms (default: the reservation's original lease). */
  readonly leaseMs?: number;
  /** Ms between renewals (default: a third of the lease, so two beats may fail before it ends). */
  readonly intervalMs?: number;
  /** Called once if the reservation is found gone (its lease ended, or it was released). */
  readonly onLost?: () => void;
}

/** A running heartbeat. */
export interface KeepAlive {
  /** Stops renewing. Idempotent. */
  stop(): void;
}

/** Renews with `renew` every interval until stopped or the reservation is gone. */
export function keepReservationAlive(renew: (leaseMs: number) => Promise<unknown>, leaseMs: number, options: KeepAliveOptions, logger: Logger): KeepAlive {
  const intervalMs = Math.max(1, options.intervalMs ?? Math.floor(leaseMs / 3));
  let stopped = false;
  let inFlight = false;
  const timer = setInterval(() => {
    // A slow renewal must not stack up behind another.
    if (stopped || inFlight) return;
    inFlight = true;
    renew(leaseMs)
      .catch((err: unknown) => {
        if (hasErrorCode(err, 'NOT_FOUND')) {
          stop();
          options.onLost?.();
        } else {
          logger.warn('reservation renewal failed; retrying on the next beat', { code: (err as { code?: string } | null)?.code ?? 'UNKNOWN' });
        }
      })
      .finally(() => {
        inFlight = false;
      });
  }, intervalMs);
  (timer as { unref?: () => void }).unref?.();
  const stop = (): void => {
    stopped = true;
    clearInterval(timer);
  };
  return { stop };
}
