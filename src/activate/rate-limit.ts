/**
 * A token bucket per destination: `ratePerSecond` requests on average, bursts up to one second's
 * worth. `take` resolves when a request may go; waiting here holds only that destination's loop.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private ratePerSecond: number, private readonly now: () => number = Date.now) {
    this.tokens = this.capacity;
    this.last = now();
  }

  private get capacity(): number {
    return Math.max(1, this.ratePerSecond);
  }

  setRate(ratePerSecond: number): void {
    this.ratePerSecond = ratePerSecond;
    this.tokens = Math.min(this.tokens, this.capacity);
  }

  /** Milliseconds until a token is available (0: now); takes it when available. */
  tryTake(): number {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }

  async take(): Promise<void> {
    for (let wait = this.tryTake(); wait > 0; wait = this.tryTake()) await new Promise((r) => setTimeout(r, wait));
  }
}
