/** The token bucket: a burst, then a wait that says how long; keys apart; the oldest keys dropped past the cap. */
import { describe, expect, it } from 'vitest';
import { HttpError } from './http.js';
import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('allows a burst, then refuses with the wait until a token is back, and keeps keys apart', () => {
    let now = 0;
    const limiter = new RateLimiter({ burst: 3, perSecond: 2 }, () => now);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(500);
    expect(limiter.take('b')).toBe(0);
    now += 500;
    expect(limiter.take('a')).toBe(0);
    expect(() => limiter.check('a')).toThrow(HttpError);
    try {
      limiter.check('a');
    } catch (err) {
      expect(err).toMatchObject({ status: 429, code: 'rate_limited', extra: { retryAfterMs: 500 } });
    }
  });

  it('forgets the least recently used keys past its cap, so memory stays bounded', () => {
    const limiter = new RateLimiter({ burst: 1, perSecond: 0.001, maxKeys: 2 }, () => 0);
    limiter.take('a');
    limiter.take('b');
    limiter.take('c');
    // 'a' was dropped: it has a full bucket again; 'c' has not.
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('c')).toBeGreaterThan(0);
  });
});
