import { describe, expect, it } from 'vitest';
import {
  countWith,
  durationLabel,
  exactTime,
  localDate,
  localDateTime,
  maskId,
  plural,
  relativeTime,
  roleLabel,
  the,
} from './format';

const NOW = Date.UTC(2025, 2, 14, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('relativeTime', () => {
  it('says "never" for a missing time', () => {
    expect(relativeTime(null, NOW)).toBe('never');
  });
  it('says "just now" for the last few seconds', () => {
    expect(relativeTime(NOW - 10_000, NOW)).toBe('just now');
  });
  it('counts minutes, then hours, then days in the past', () => {
    expect(relativeTime(NOW - 5 * MIN, NOW)).toBe('5 min ago');
    expect(relativeTime(NOW - 50 * 1000, NOW)).toBe('1 min ago');
    expect(relativeTime(NOW - 3 * HOUR, NOW)).toBe('3 h ago');
    expect(relativeTime(NOW - 30 * HOUR, NOW)).toBe('yesterday');
    expect(relativeTime(NOW - 4 * DAY, NOW)).toBe('4 days ago');
  });
  it('speaks of the future for expiries', () => {
    expect(relativeTime(NOW + 20 * MIN, NOW)).toBe('in 20 min');
    expect(relativeTime(NOW + 2 * HOUR, NOW)).toBe('in 2 h');
    expect(relativeTime(NOW + 1 * DAY + HOUR, NOW)).toBe('in 1 day');
  });
  it('falls back to the date past a month', () => {
    expect(relativeTime(NOW - 45 * DAY, NOW)).toBe('2025-01-28');
  });
});

describe('exact and local times', () => {
  it('gives ISO 8601 in UTC for tooltips', () => {
    expect(exactTime(NOW)).toBe('2025-03-14T12:00:00.000Z');
  });
  it('formats local date and time with zero padding (tests run in UTC)', () => {
    const t = Date.UTC(2025, 0, 5, 7, 3);
    expect(localDate(t)).toBe('2025-01-05');
    expect(localDateTime(t)).toBe('2025-01-05 07:03');
  });
});

describe('maskId', () => {
  it('keeps the first 8 characters and an ellipsis', () => {
    expect(maskId('0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d')).toBe('0a1b2c3d…');
  });
  it('leaves short ids whole', () => {
    expect(maskId('abc')).toBe('abc');
    expect(maskId('12345678')).toBe('12345678');
  });
});

describe('labels', () => {
  it('names roles', () => {
    expect(roleLabel('security_admin')).toBe('Security admin');
    expect(roleLabel('support')).toBe('Support');
    expect(roleLabel('user')).toBe('User');
  });
  it('pluralises', () => {
    expect(plural(1, 'session')).toBe('1 session');
    expect(plural(3, 'session')).toBe('3 sessions');
    expect(plural(1200, 'user')).toBe('1,200 users');
  });
  it('says policy durations the way people do', () => {
    expect(durationLabel(5 * MIN)).toBe('5 min');
    expect(durationLabel(12 * HOUR)).toBe('12 h');
    expect(durationLabel(7 * DAY)).toBe('7 days');
    expect(durationLabel(90_000)).toBe('90 s');
  });
});

describe('counts in sentences', () => {
  it('says "the session" for one and "the 3 sessions" for more, never "the 1 session"', () => {
    expect(the(1, 'active session')).toBe('the active session');
    expect(the(3, 'active session')).toBe('the 3 active sessions');
    expect(the(0, 'active session')).toBe('the 0 active sessions');
  });
  it('agrees the verb with the count', () => {
    expect(countWith(1, 'has', 'have')).toBe('1 has');
    expect(countWith(2400, 'has', 'have')).toBe('2,400 have');
  });
});
