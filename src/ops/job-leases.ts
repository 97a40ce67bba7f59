/**
 * Named leases in the shared database, so a background job that every
 * instance schedules runs on one instance at a time: the database decides
 * the winner, whatever the number of instances (src/storage/job-lease-store.ts;
 * the contract is test/contracts/job-lease-store.contract.ts).
 */
export interface JobLeaseStore {
  /**
   * Takes or renews the lease `name` for `holder` until `now + ttlMs`.
   * Succeeds when the lease is free, expired, or already held by `holder`.
   */
  tryAcquire(name: string, holder: string, now: number, ttlMs: number): Promise<boolean>;
  /** Gives the lease up early (on shutdown), if `holder` still has it. */
  release(name: string, holder: string): Promise<void>;
  /** Who holds the lease at `now`, or null when it is free or expired. */
  holder(name: string, now: number): Promise<string | null>;
}
