/**
 * A tiny cache for the campaign preview: staff press «Предпросмотр», then search several people
 * or fix the text, all within a minute, and each of those must not re-read and re-render 100 000
 * rows. Bounded by entries (a plan of 100 000 rows is tens of megabytes), and by age: an entry
 * older than `ttlMs` is never returned. Keys carry everything the value depends on (list versions,
 * a stamp of the compliance tables, the template…), so a change is a miss, not a stale answer.
 * Time comes from the caller (src/clock.ts), never from Date.now().
 */
export class PlanCache<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();
  /** Empties the cache a while after its last use: nothing of a preview outlives it in memory. */
  private idle: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
  ) {}

  get(key: string, now: Date): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const age = now.getTime() - entry.at;
    if (age > this.ttlMs || age < 0) {
      this.entries.delete(key);
      return undefined;
    }
    // Most recently used last: the first key is the one to drop.
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.armIdle();
    return entry.value;
  }

  set(key: string, value: V, now: Date): void {
    // Nothing outlives its minute in memory either (a stale entry may hold an erased person's fields).
    for (const [k, entry] of this.entries) if (now.getTime() - entry.at > this.ttlMs) this.entries.delete(k);
    this.entries.delete(key);
    this.entries.set(key, { value, at: now.getTime() });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.armIdle();
  }

  /** Whether `value` is still kept (under any key). */
  holds(value: V): boolean {
    for (const entry of this.entries.values()) if (entry.value === value) return true;
    return false;
  }

  /** Drops everything (e.g. after an erasure: nothing of the person may stay in memory). */
  clear(): void {
    this.entries.clear();
    clearTimeout(this.idle);
    this.idle = undefined;
  }

  // A real timer, not the injected clock: it only frees memory and never decides what is shown
  // (entries are judged by `now` in get). unref: it never keeps the process alive.
  private armIdle(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.clear(), this.ttlMs + 1_000);
    this.idle.unref();
  }
}
