import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  cookieValue,
  DashboardAuth,
  LOGIN_CODE_TTL_MS,
  SESSION_COOKIE,
  SESSION_TTL_MS,
} from './auth.ts';

describe('dashboard login', () => {
  test('a code works once, within its minute, and gives a session cookie', () => {
    let now = 1_000;
    const auth = new DashboardAuth(() => now);
    const { code } = auth.loginCode();
    const session = auth.redeem(code);
    assert.ok(session);
    assert.equal(auth.redeem(code), undefined, 'a second use');
    assert.ok(auth.allows(`a=b; ${SESSION_COOKIE}=${session}`));
    assert.equal(auth.allows(`${SESSION_COOKIE}=${session}x`), false);
    assert.equal(auth.allows(undefined), false);
    const late = auth.loginCode().code;
    now += LOGIN_CODE_TTL_MS;
    assert.equal(auth.redeem(late), undefined, 'an expired code');
    now += SESSION_TTL_MS;
    assert.equal(auth.allows(`${SESSION_COOKIE}=${session}`), false, 'an expired session');
  });

  test('codes and sessions are random, and a wrong code gets nothing', () => {
    const auth = new DashboardAuth();
    const a = auth.loginCode().code;
    const b = auth.loginCode().code;
    assert.notEqual(a, b);
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(auth.redeem(''), undefined);
    assert.equal(auth.redeem(`${a.slice(0, -1)}x`), undefined);
  });

  test('the cookie is HttpOnly, SameSite=Strict, for /dashboard only', () => {
    const cookie = DashboardAuth.cookie('s3cret');
    assert.match(cookie, /; Path=\/dashboard; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    assert.equal(cookieValue(`x=1; ${cookie.split(';')[0]}`, SESSION_COOKIE), 's3cret');
  });

  test('outstanding codes are bounded: the oldest goes first', () => {
    const auth = new DashboardAuth();
    const first = auth.loginCode().code;
    for (let i = 0; i < 16; i++) auth.loginCode();
    assert.equal(auth.redeem(first), undefined);
  });
});
