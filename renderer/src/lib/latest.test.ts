import { describe, expect, it } from 'vitest';
import { LatestAnswer } from './latest';

describe('LatestAnswer', () => {
  it('drops the answer of a poll sent before a logout whose answer came first', () => {
    const order = new LatestAnswer();
    const poll = order.ticket();
    const logout = order.ticket();
    expect(order.take(logout)).toBe(true);
    expect(order.take(poll)).toBe(false);
    expect(order.current(poll)).toBe(false);
  });

  it('takes answers that arrive in order, and a repeat of the newest', () => {
    const order = new LatestAnswer();
    const a = order.ticket();
    const b = order.ticket();
    expect(order.take(a)).toBe(true);
    expect(order.take(b)).toBe(true);
    expect(order.take(b)).toBe(true);
    expect(order.current(b)).toBe(true);
  });
});
