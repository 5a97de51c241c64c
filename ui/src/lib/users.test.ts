import { describe, expect, it } from 'vitest';
import type { Capabilities } from './backend/generated';
import { userSummary } from './fixtures.test-util';
import {
  NO_CAPABILITIES,
  canResetTotp,
  canUnlock,
  lockCause,
  lockoutStatus,
  undeliveredText,
  signOutEverywhereConsequence,
  unlockConsequence,
  userBadges,
  usersLoaded,
} from './users';

const ALL: Capabilities = { unlock: true, revoke_sessions: true, reset_totp: true, view_policy: true, bulk_revoke: true, view_audit: true, export_audit: true, review_flags: true };
const NONE: Capabilities = NO_CAPABILITIES;

describe('userBadges', () => {
  it('gives a plain verified user no badge', () => {
    expect(userBadges(userSummary())).toEqual([]);
  });
  it('shows locked, 2FA, unverified and the active session count in that order', () => {
    const b = userBadges(userSummary({ locked: true, totp_enabled: true, email_verified: false, active_sessions: 3 }));
    expect(b.map((x) => x.label)).toEqual(['Locked', '2FA', 'Unverified', '3 active sessions']);
  });
  it('says "Permanently locked" instead of "Locked" for a permanent lock', () => {
    const b = userBadges(userSummary({ locked: true, locked_permanently: true }));
    expect(b.map((x) => x.key)).toEqual(['locked-permanently']);
  });
  it('does not call a stale permanent flag a lock', () => {
    expect(userBadges(userSummary({ locked: false, locked_permanently: true }))).toEqual([]);
  });
  it('uses the singular for one session', () => {
    expect(userBadges(userSummary({ active_sessions: 1 }))[0]?.label).toBe('1 active session');
  });
});

describe('lockCause', () => {
  const now = Date.UTC(2026, 11, 7, 12, 0);
  it('says what caused the lock, from where and when', () => {
    expect(lockCause({ since: now - 10 * 60_000, until: now + 5 * 60_000, permanent: false, failures: 5, ip: '203.0.113.9', lock_count: 1 }, now)).toBe(
      'After 5 failed sign-ins, the last from 203.0.113.9, 10 min ago.',
    );
  });
  it('counts the locks in a row and copes with what an old record lacks', () => {
    expect(lockCause({ since: null, until: null, permanent: true, failures: null, ip: null, lock_count: 2 }, now)).toBe(
      'After failed sign-ins; the second lock in a row.',
    );
    expect(lockCause({ since: now, until: null, permanent: true, failures: 1, ip: null, lock_count: 12 }, now)).toBe(
      'After 1 failed sign-in, just now; the 12th lock in a row.',
    );
  });
});

describe('undeliveredText', () => {
  const now = Date.UTC(2026, 11, 7, 12, 0);
  const mail = { id: 'm', user_id: 'u', email: 'ana@example.com', kind: 'verification', created_at: now - 3_600_000, attempts: 3, next_at: now - 1, last_error: 'the mail server refused it: 451 try later', gave_up_at: null };
  it('says how often it was tried, what comes next and what the mail server said', () => {
    expect(undeliveredText(mail, now)).toBe(
      'Verification email not delivered (3 tries; to be tried again now): the mail server refused it: 451 try later',
    );
    expect(undeliveredText({ ...mail, attempts: 1, next_at: null, gave_up_at: now - 120_000, last_error: null }, now)).toBe(
      'Verification email not delivered (1 try; given up 2 min ago)',
    );
  });
});

describe('lockoutStatus', () => {
  it('says "Not locked" when not locked', () => {
    expect(lockoutStatus(userSummary())).toEqual({ locked: false, text: 'Not locked' });
  });
  it('gives the end of a timed lock (UTC in tests)', () => {
    const s = lockoutStatus(userSummary({ locked: true, locked_until: Date.UTC(2025, 2, 14, 12, 30) }));
    expect(s.text).toBe('Locked until 2025-03-14 12:30');
    expect(s.text.startsWith('Locked')).toBe(true);
  });
  it('says a permanent lock waits for an administrator', () => {
    const s = lockoutStatus(userSummary({ locked: true, locked_permanently: true }));
    expect(s.text).toBe('Locked until an administrator unlocks it');
  });
});

describe('actions offered', () => {
  it('offers unlock for a lock or pending failures, with the capability', () => {
    expect(canUnlock(userSummary({ locked: true }), ALL)).toBe(true);
    expect(canUnlock(userSummary({ failed_count: 2 }), ALL)).toBe(true);
    expect(canUnlock(userSummary(), ALL)).toBe(false);
    expect(canUnlock(userSummary({ locked: true }), NONE)).toBe(false);
  });
  it('offers a two-factor reset only when it is on', () => {
    expect(canResetTotp(userSummary({ totp_enabled: true }), ALL)).toBe(true);
    expect(canResetTotp(userSummary({ totp_enabled: false }), ALL)).toBe(false);
    expect(canResetTotp(userSummary({ totp_enabled: true }), NONE)).toBe(false);
  });
  it('says what unlocking does, with the counters', () => {
    const text = unlockConsequence(userSummary({ locked: true, failed_count: 5, lock_count: 2 }));
    expect(text).toContain('Removes the lock on ann@example.com');
    expect(text).toContain('(5)');
    expect(text).toContain('(2)');
    expect(text).toContain('audit log');
  });
});

describe('counts of users and sessions', () => {
  it('says "1 user", not "1 users"', () => {
    expect(usersLoaded(1, true)).toBe('1 user');
    expect(usersLoaded(12, true)).toBe('12 users');
    expect(usersLoaded(300, false)).toBe('300+ users loaded');
  });
  it('says "the active session" for one, not "all 1 active session"', () => {
    expect(signOutEverywhereConsequence(1, 'ana@example.com')).toMatch(/^Ends the active session of ana@example.com now/);
    expect(signOutEverywhereConsequence(4, 'ana@example.com')).toMatch(/^Ends the 4 active sessions of ana@example.com now/);
  });
});
