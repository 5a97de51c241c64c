import { describe, expect, it } from 'vitest';
import type { HourCount } from './backend/generated';
import {
  adminActionLabel,
  countryLabel,
  dailyTotals,
  deviceShareLabel,
  hourLabel,
  lockLabel,
  niceScale,
  shareRows,
  stepArea,
  stepLine,
  totals,
} from './overview';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 4, 22, 0, 0);

const hours: HourCount[] = [
  { start: T0, sign_ins: 3, failures: 1 },
  { start: T0 + HOUR, sign_ins: 2, failures: 0 },
  { start: T0 + 2 * HOUR, sign_ins: 0, failures: 4 }, // the next day (UTC)
];

describe('the sign-in chart', () => {
  it('scales the y axis in round steps from zero', () => {
    expect(niceScale(0)).toEqual({ max: 1, step: 1, ticks: [0, 1] });
    expect(niceScale(7)).toEqual({ max: 8, step: 2, ticks: [0, 2, 4, 6, 8] });
    expect(niceScale(38)).toEqual({ max: 40, step: 10, ticks: [0, 10, 20, 30, 40] });
    expect(niceScale(1234).step).toBe(500);
    expect(niceScale(1234).max).toBe(1500);
  });
  it('draws counts per hour as steps', () => {
    const x = (i: number): number => i * 10;
    const y = (v: number): number => 100 - v * 10;
    expect(stepArea([3, 0, 5], x, y, 100)).toBe('M0 100V70H10V100H20V50H30V100Z');
    expect(stepLine([3, 0, 5], x, y)).toBe('M0 70V70H10V100H20V50H30');
    expect(stepArea([], x, y, 100)).toBe('');
  });
  it('names an hour', () => {
    expect(hourLabel(T0)).toBe('Mar 4, 22:00–23:00');
    expect(hourLabel(T0 + HOUR)).toBe('Mar 4, 23:00–00:00');
  });
  it('sums the week and each day', () => {
    expect(totals(hours)).toEqual({ signIns: 5, failures: 5 });
    expect(dailyTotals(hours)).toEqual([
      { day: '2026-03-04', signIns: 5, failures: 1 },
      { day: '2026-03-05', signIns: 0, failures: 4 },
    ]);
  });
});

describe('shares', () => {
  it('names countries and devices', () => {
    expect(countryLabel('DE')).toBe('Germany (DE)');
    expect(countryLabel('de')).toBe('Germany (DE)');
    expect(countryLabel(null)).toBe('Unknown');
    expect(countryLabel('AA')).toBe('AA');
    expect(deviceShareLabel('mobile')).toBe('Mobile');
    expect(deviceShareLabel(null)).toBe('Unknown device');
  });
  it('adds the rest as Other, with each share of all active sessions', () => {
    const rows = shareRows(
      [
        { value: 'DE', sessions: 6 },
        { value: null, sessions: 2 },
      ],
      10,
      (v) => v ?? 'Unknown',
    );
    expect(rows.map((r) => [r.label, r.count, r.percent, r.fraction])).toEqual([
      ['DE', 6, 60, 0.6],
      ['Unknown', 2, 20, 0.2],
      ['Other', 2, 20, 0.2],
    ]);
    expect(shareRows([], 0, String)).toEqual([]);
  });
});

describe('words', () => {
  it('says how long a lock lasts', () => {
    expect(lockLabel({ locked_until: null, locked_permanently: true }, T0)).toBe('Until an administrator unlocks it');
    expect(lockLabel({ locked_until: T0 + 12 * 60_000, locked_permanently: false }, T0)).toBe(
      'Until 2026-03-04 22:12 (in 12 min)',
    );
  });
  it('tells admin actions as sentences, the emergency by name', () => {
    expect(adminActionLabel({ action: 'user.unlocked', metadata: '{}' })).toBe('Unlocked an account');
    expect(adminActionLabel({ action: 'session.bulk_revoked', metadata: '{"target":"everyone","terminated":1204}' })).toBe(
      'Signed everyone out (emergency: 1,204 ended)',
    );
    expect(adminActionLabel({ action: 'session.bulk_revoked', metadata: '{"target":"filter","terminated":8}' })).toBe(
      'Ended sessions in bulk (8 ended)',
    );
    expect(adminActionLabel({ action: 'user.sessions_revoked', metadata: '{"count":3}' })).toBe(
      'Signed a user out everywhere (3 ended)',
    );
    expect(adminActionLabel({ action: 'session.bulk_revoked', metadata: 'not json' })).toBe('Ended sessions in bulk');
    expect(adminActionLabel({ action: 'x.new', metadata: '{}' })).toBe('x.new');
  });
});
