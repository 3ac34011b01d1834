/**
 * Rate limits: a token bucket per key (a device, a user, a source address),
 * in this instance's memory. Several instances each keep their own buckets,
 * so a client spread over N instances gets at most N times the rate: a
 * brake on abuse, not an account of it (what must be counted exactly, like
 * login failures, is kept in the database).
 */
import { HttpError } from './http.js';

export interface RateLimitOptions {
  /** Tokens a key may spend at once. */
  burst: number;
  /** Tokens a key earns back per second. */
  perSecond: number;
  /** Buckets kept at most; the least recently used go first. */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Spends `cost` tokens of `key`: 0 when allowed, else the milliseconds until it would be. */
  take(key: string, cost = 1): number {
    const now = this.now();
    const { burst, perSecond } = this.options;
    const held = this.buckets.get(key);
    const tokens = held ? Math.min(burst, held.tokens + ((now - held.at) / 1000) * perSecond) : burst;
    // Re-inserted so that the map's order is least recently used first.
    this.buckets.delete(key);
    if (tokens >= cost) {
      this.buckets.set(key, { tokens: tokens - cost, at: now });
      this.trim();
      return 0;
    }
    this.buckets.set(key, { tokens, at: now });
    this.trim();
    return Math.ceil(((cost - tokens) / perSecond) * 1000);
  }

  /** Spends a token of `key` or throws 429 rate_limited with the wait in `retryAfterMs` (the router sets Retry-After). */
  check(key: string, cost = 1): void {
    const wait = this.take(key, cost);
    if (wait > 0) throw new HttpError(429, 'rate_limited', 'too many requests', { retryAfterMs: wait });
  }

  private trim(): void {
    const max = this.options.maxKeys ?? 100_000;
    while (this.buckets.size > max) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) break;
      this.buckets.delete(oldest);
    }
  }
}
