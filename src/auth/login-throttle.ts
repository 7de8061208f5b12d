/**
 * Slows down password guessing: after `maxFailures` failed logins for one login name (or from
 * one address) within `windowMs`, further attempts are refused until the window passes.
 * In memory on purpose: one instance serves one office, and a restart only resets the count.
 * Time is passed in.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures = 5,
    private readonly windowMs = 15 * 60_000,
  ) {}

  /** Milliseconds until `keys` may try again, or 0 when they may try now. */
  retryAfterMs(keys: readonly string[], now: Date): number {
    let wait = 0;
    for (const key of keys) {
      const recent = this.recent(key, now);
      if (recent.length >= this.maxFailures) wait = Math.max(wait, recent[0]! + this.windowMs - now.getTime());
    }
    return wait;
  }

  recordFailure(keys: readonly string[], now: Date): void {
    for (const key of keys) this.failures.set(key, [...this.recent(key, now), now.getTime()]);
    if (this.failures.size > 10_000) this.prune(now);
  }

  recordSuccess(keys: readonly string[]): void {
    for (const key of keys) this.failures.delete(key);
  }

  private recent(key: string, now: Date): number[] {
    const since = now.getTime() - this.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }

  private prune(now: Date): void {
    for (const key of this.failures.keys()) if (this.recent(key, now).length === 0) this.failures.delete(key);
  }
}
