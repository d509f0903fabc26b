import type { ManualClock } from '../../core/clock.js';

/** A test skipped on purpose for one backend, with the reason shown in the test output. */
export interface ContractSkip {
  /** The test's exact name as printed by the suite. */
  readonly test: string;
  /** Why this backend cannot or need not pass it. */
  readonly reason: string;
}

/** Lets the suite make a backend unreachable and bring it back. */
export interface OutageControl {
  /** Drops every open connection of handles opened by the harness and refuses new ones. */
  interrupt(): Promise<void>;
  /** Makes the backend reachable again (handles must recover without being recreated). */
  restore(): Promise<void>;
  /**
   * Optional: until the next `interrupt()`, requests still reach the backend but its replies are
   * lost, so a call can take effect while its caller only sees the outage. Absent: the tests that
   * need it are skipped with a reason.
   */
  swallowReplies?(): Promise<void>;
}

/**
 * What a backend supplies to a conformance suite. The suite isolates tests from each other by
 * unique namespaces, key prefixes and channel names, so one backend instance can serve a whole file.
 */
export interface AdapterHarness<A> {
  /**
   * Opens a handle on the backend under test. All handles share state; each should use its own
   * connection(s), so "concurrent from separate connections" means what it says. The suite closes
   * every handle it opens. A backend without connections (memory) may return one shared instance.
   */
  open(): Promise<A>;
  /** Releases what the harness itself holds (pools, clients, proxies), after the suite closed its handles. */
  teardown?(): Promise<void>;
  /** The manual clock driving expiry, for backends that take time from the caller; absent: real short TTLs. */
  readonly clock?: ManualClock;
  /** Present when the backend has a server to lose; absent: the outage test is skipped with a reason. */
  readonly outage?: OutageControl;
}

/** Options of every `describe*Contract` suite. */
export interface ContractOptions {
  /** Tests this backend skips, each with its reason. */
  readonly skip?: readonly ContractSkip[];
  /**
   * Scales the heavy tests (concurrency counts, listing size) for quick local runs; 1 = the full
   * contract (default). Below 1 is not a conformance run and says so in the output.
   */
  readonly scale?: number;
}
