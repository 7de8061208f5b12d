import type { Clock } from '../../src/clock.js';

/**
 * A clock that moves only when the test says so. `sleep` resolves when `advance` passes its
 * deadline (in deadline order), or at once when its signal aborts.
 */
export class FakeClock implements Clock {
  private current: number;
  private sleepers: Array<{ at: number; resolve: () => void }> = [];

  constructor(start: Date | string = '2026-11-26T09:00:00+03:00') {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const entry = { at: this.current + ms, resolve };
      this.sleepers.push(entry);
      signal?.addEventListener('abort', () => {
        this.sleepers = this.sleepers.filter((s) => s !== entry);
        resolve();
      }, { once: true });
    });
  }

  /** Moves time forward, waking due sleepers in order. */
  advance(ms: number): void {
    this.current += ms;
    const due = this.sleepers.filter((s) => s.at <= this.current).sort((a, b) => a.at - b.at);
    this.sleepers = this.sleepers.filter((s) => s.at > this.current);
    for (const s of due) s.resolve();
  }

  set(to: Date | string): void {
    this.advance(new Date(to).getTime() - this.current);
  }
}
