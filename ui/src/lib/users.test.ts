import { describe, expect, it } from 'vitest';
import type { Capabilities } from './backend/generated';
import { userSummary } from './fixtures.test-util';
import {
  NO_CAPABILITIES,
  canResetTotp,
  canUnlock,
  lockoutStatus,
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
