import { describe, expect, it } from 'vitest';
import { banConsequence, banStatus, banUntil, endSessionConsequence, sessionWhere, signOutConsequence } from './library';
import type { SubjectSession } from './backend/generated';

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);

const session = (over: Partial<SubjectSession> = {}): SubjectSession => ({
  key: 'abc',
  user_id: 'u1',
  created_at: NOW - 1000,
  expires_at: NOW + 1000,
  ip: '10.0.1.1',
  user_agent: 'Firefox',
  impersonated_by: null,
  ...over,
});

describe('library bans', () => {
  it('lasts the span picked, or until lifted', () => {
    expect(banUntil('', NOW)).toBeNull();
    expect(banUntil('7d', NOW)).toBe(NOW + 7 * 86_400_000);
    expect(banUntil('nonsense', NOW)).toBeNull();
  });
  it('says whether and until when a user is banned', () => {
    expect(banStatus({ banned: false, ban_expires: null }, NOW)).toMatchObject({ banned: false, text: 'Not banned' });
    expect(banStatus({ banned: null, ban_expires: null }, NOW).banned).toBe(false);
    expect(banStatus({ banned: true, ban_expires: null }, NOW)).toMatchObject({ banned: true, text: 'Banned until lifted' });
    expect(banStatus({ banned: true, ban_expires: NOW + 60_000 }, NOW).text).toMatch(/^Banned until /);
    expect(banStatus({ banned: true, ban_expires: NOW - 1 }, NOW)).toMatchObject({
      tone: 'warn',
      text: 'Ban expired: lifted at their next sign-in',
    });
  });
  it('says what a ban does before it is confirmed', () => {
    const text = banConsequence('a@example.test', 2, null, 'Better Auth');
    expect(text).toContain("Better Auth refuses a@example.test's sign-ins until someone lifts the ban");
    expect(text).toContain('ends 2 sessions of theirs now');
  });
});

describe('library sessions', () => {
  it('names what is ended, in the library’s terms', () => {
    expect(endSessionConsequence(session(), 'Better Auth')).toContain('(Firefox from 10.0.1.1) from Better Auth');
    expect(endSessionConsequence(session({ ip: null, user_agent: null }), 'Auth.js')).toContain(
      "Deletes this session from Auth.js's table",
    );
    expect(signOutConsequence('b@example.test', 1, 'Auth.js')).toContain('1 session of b@example.test');
    expect(sessionWhere(session({ ip: null, user_agent: null }))).toBe('No device or address recorded');
  });
});

describe('the emergency sign-out', () => {
  it('says how many sessions and users it ends', async () => {
    const { everyoneConsequence } = await import('./library');
    expect(everyoneConsequence(1204, 310, 'Better Auth')).toContain('1,204 sessions of 310 users');
    expect(everyoneConsequence(0, 0, 'Auth.js')).toContain('nothing will be ended');
  });
});
