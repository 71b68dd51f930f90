// Pure unit tests of the RE2 → JS translation; nothing is stood in (no RE2 engine is available in
// Node, so expectations follow the RE2 syntax reference).
import { describe, expect, test } from 'vitest';
import { compileRe2, translateRe2 } from '../../../proxy/router/re2.js';

const full = (p: string) => compileRe2(p, { path: 'x.regex' });

describe('compileRe2', () => {
  test.each([
    ['/users/[0-9]+', '/users/12', true],
    ['/users/[0-9]+', '/users/12/x', false],
    ['a|ab', 'ab', true],
    ['(?i)/API/.*', '/api/x', true],
    ['(?P<id>[a-z]+)-\\d', 'abc-1', true],
    ['\\Qa.b\\E', 'a.b', true],
    ['\\Qa.b\\E', 'axb', false],
    ['[[:alpha:]]+[[:digit:]]', 'abc1', true],
    ['\\pL+', 'héllo', true],
    ['\\p{Greek}+', 'αβγ', true],
    ['\\x{263a}', '☺', true],
    ['\\Aabc\\z', 'abc', true],
    ['a{2,3}', 'aaa', true],
    ['a{2,3}', 'aaaa', false],
    ['x{', 'x{', true],
    ['\\-\\_', '-_', true],
    ['\\s', '\u00a0', false],
    ['(?m)^a$', 'a', true],
    ['(?s).', '\n', true],
    ['.', '\n', false],
    ['a.b', 'a\rb', true],
  ])('%s on %j → %s', (pattern, input, want) => {
    // GIVEN an RE2 pattern
    // WHEN
    const re = full(pattern);
    // THEN
    expect(re.test(input)).toBe(want);
  });

  test('full match anchoring survives (?m)', () => {
    // GIVEN / WHEN
    const re = full('(?m)a');
    // THEN: RE2 full match of "a\na" against "a" is false
    expect(re.test('a\na')).toBe(false);
  });

  test('search mode finds a match anywhere', () => {
    // GIVEN / WHEN
    const re = compileRe2('upstream_rq', { path: 'filter', fullMatch: false });
    // THEN
    expect(re.test('cluster.a.upstream_rq_total')).toBe(true);
  });

  test.each([
    ['(a)\\1', /backreference/],
    ['a(?=b)', /lookaround/],
    ['(?<!a)b', /lookaround/],
    ['a(?i)b', /flags inside the pattern/],
    ['(?i:a)b', /flags inside the pattern/],
    ['(?U)a+', /ungreedy/],
    ['\\C', /any byte/],
    ['a{1001}', /above 1000/],
    ['[[:^alpha:]]', /negated POSIX/],
    ['[[:nope:]]', /unknown POSIX/],
    ['\\y', /unknown escape/],
    ['(a', /not a valid regex/],
    ['\\Z', /RE2 does not support/],
  ])('rejects %s with a config error', (pattern, why) => {
    // GIVEN / WHEN / THEN
    expect(() => full(pattern)).toThrow(why);
    try {
      full(pattern);
    } catch (error) {
      expect(error).toMatchObject({ code: 'PROXY_E_INVALID', path: 'x.regex', value: pattern });
    }
  });

  test('translation keeps ordinary syntax unchanged', () => {
    // GIVEN / WHEN / THEN
    expect(translateRe2('^/a/(b|c)*?[^x-z.]$')).toEqual({ source: '^/a/(b|c)*?[^x-z.]$', flags: 'u' });
  });
});
