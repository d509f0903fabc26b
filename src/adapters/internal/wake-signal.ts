/**
 * The "work may be available" signal behind every queue's `waitForWork`: a claim clears it, an
 * announcement (enqueue, release, lease expiry) sets it and wakes every waiter. Remembering an
 * announcement that arrives while nobody waits is what keeps a worker from sleeping through work
 * announced between its empty claim and its next wait.
 */
export class WakeSignal {
  #pending = false;
  readonly #waiters = new Set<() => void>();

  /** Called by a claim: what it did not take will be announced again. */
  clear(): void {
    this.#pending = false;
  }

  /** Work may be available: wake every waiter, or remember it for the next wait. */
  notify(): void {
    this.#pending = true;
    for (const done of [...this.#waiters]) done();
  }

  /** Resolves on the next notification, after `ms`, on abort, or at once if one is pending. */
  async wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.#pending || ms === 0 || signal?.aborted) {
      this.#pending = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.#waiters.add(done);
    });
  }

  /**
   * Waits as {@link WakeSignal.wait} does, beside `setup` (the wake-up subscription being set up):
   * a setup that cannot finish (its server out of reach, its client retrying) does not stretch the
   * wait past `ms` or its abort. A setup that fails before the wait ends fails it; one that fails
   * later is left to the next call.
   */
  async waitBeside(setup: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<void> {
    const waited = this.wait(ms, signal);
    const live = setup.then(() => waited);
    live.catch(() => undefined);
    await Promise.race([waited, live]);
  }

  /** Releases every waiter (on close). */
  releaseAll(): void {
    for (const done of [...this.#waiters]) done();
  }
}
