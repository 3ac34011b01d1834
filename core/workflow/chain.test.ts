import { describe, expect, it } from 'vitest';
import { canonicalJson } from './chain.js';

// The chain itself, appended by the workflow and checked against the database, is tested with the workflow
// service (main/workflow/chain.test.ts).

describe('canonical JSON', () => {
  it('sorts keys at every level and leaves no spaces', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: true, y: null }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}',
    );
    expect(canonicalJson({ b: undefined, a: 1 })).toBe('{"a":1}');
    expect(() => canonicalJson({ a: Number.NaN })).toThrow();
  });
});
