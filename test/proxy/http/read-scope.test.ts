// The per-read clock and held response heads (proxy/http/read-scope.ts): pure functions of the
// module, no sockets (nothing stood in).
import { describe, expect, test } from 'vitest';
import { enterRead, epochNow, exitRead, holdUntilReadEnds, monoNow } from '../../../proxy/http/read-scope.js';

const spin = (ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // Busy-wait: the clock must move while the scope is open.
  }
};

describe('read scope', () => {
  test('inside a read the clock is read once; outside it is the real clock', () => {
    // GIVEN an open read scope whose first clock reads are taken
    enterRead();
    const epoch = epochNow();
    const mono = monoNow();
    spin(5);
    // WHEN the clock is read again in the same read
    const epochAgain = epochNow();
    const monoAgain = monoNow();
    exitRead();
    // THEN it is the same value, and after the read the real time moved on
    expect(epochAgain).toBe(epoch);
    expect(monoAgain).toBe(mono);
    expect(epochNow()).toBeGreaterThanOrEqual(epoch + 5);
    expect(monoNow()).toBeGreaterThan(mono + 4);
  });

  test('held heads are flushed once when the outermost read ends', () => {
    // GIVEN a head held inside nested reads
    const flushed: string[] = [];
    enterRead();
    enterRead();
    expect(holdUntilReadEnds({ flushHead: () => flushed.push('a') })).toBe(true);
    // WHEN the inner read ends, then the outer one
    exitRead();
    const afterInner = [...flushed];
    exitRead();
    // THEN only the outer end flushes it, and outside a read nothing is held
    expect(afterInner).toEqual([]);
    expect(flushed).toEqual(['a']);
    expect(holdUntilReadEnds({ flushHead: () => flushed.push('b') })).toBe(false);
  });
});
