import { describe, expect, it } from 'vitest';
import type { SubjectOverview } from './backend/generated';
import {
  addressHint,
  addressRows,
  noAddressSentence,
  noBegunSentence,
  overviewTiles,
  shareOfUsers,
  unavailableReason,
} from './libraryOverview';

const BETTER_AUTH = { name: 'Better Auth', session_place: true, session_start: true };
const AUTH_JS = { name: 'Auth.js', session_place: false, session_start: false };

function overview(p: Partial<SubjectOverview> = {}): SubjectOverview {
  return {
    at: Date.UTC(2026, 2, 4, 12),
    users: 1200,
    unverified: 30,
    banned: 2,
    two_factor: 300,
    admins: 3,
    live_sessions: 410,
    live_users: 350,
    begun: [],
    addresses: [],
    admin_actions: [],
    ...p,
  };
}

describe('the tiles', () => {
  it('shows the six counts in order, with what each counts', () => {
    const tiles = overviewTiles(overview(), BETTER_AUTH);
    expect(tiles.map((t) => t.key)).toEqual(['users', 'live', 'banned', 'two_factor', 'unverified', 'admins']);
    const by = Object.fromEntries(tiles.map((t) => [t.key, t]));
    expect(by.users).toMatchObject({ value: 1200, caption: "in Better Auth's table", unavailable: false });
    expect(by.live).toMatchObject({ value: 410, caption: 'of 350 users' });
    expect(by.two_factor).toMatchObject({ value: 300, caption: '25% of users' });
    expect(by.unverified).toMatchObject({ value: 30, caption: '3% of users' });
    expect(by.admins).toMatchObject({ value: 3, unavailable: false });
  });

  it('opens the users and sessions screens from their tiles, and nothing from the others', () => {
    const opens = Object.fromEntries(overviewTiles(overview(), BETTER_AUTH).map((t) => [t.key, t.opens]));
    expect(opens).toEqual({
      users: 'users',
      live: 'sessions',
      banned: null,
      two_factor: null,
      unverified: null,
      admins: null,
    });
  });

  it('says why a count the schema cannot give is missing, instead of showing it as zero', () => {
    const tiles = overviewTiles(overview({ banned: null, two_factor: null, admins: null }), BETTER_AUTH);
    const missing = tiles.filter((t) => t.unavailable);
    expect(missing.map((t) => t.key)).toEqual(['banned', 'two_factor', 'admins']);
    for (const t of missing) expect(t.value).toBeNull();
    expect(missing.map((t) => t.caption)).toEqual([
      "Needs Better Auth's admin plugin",
      "Needs Better Auth's twoFactor plugin",
      "Needs the role column of Better Auth's admin plugin",
    ]);
  });

  it('keeps a real zero as a count', () => {
    const banned = overviewTiles(overview({ banned: 0 }), BETTER_AUTH).find((t) => t.key === 'banned');
    expect(banned).toMatchObject({ value: 0, unavailable: false, caption: 'none of the users' });
  });

  it('names what Auth.js lacks as its own, not as a missing plugin', () => {
    expect(unavailableReason('banned', AUTH_JS)).toBe('Auth.js has no ban');
    expect(unavailableReason('two_factor', AUTH_JS)).toBe('Auth.js has no two-factor');
    expect(unavailableReason('admins', AUTH_JS)).toBe('Auth.js users have no role');
  });

  it('counts one live user in the singular', () => {
    const live = overviewTiles(overview({ live_sessions: 3, live_users: 1 }), BETTER_AUTH)[1];
    expect(live?.caption).toBe('of 1 user');
  });
});

describe('a share of the users', () => {
  it('rounds to a whole percent', () => {
    expect(shareOfUsers(1, 3)).toBe('33% of users');
    expect(shareOfUsers(50, 200)).toBe('25% of users');
  });
  it('never rounds a few to none, nor nearly all to all', () => {
    expect(shareOfUsers(1, 12_408)).toBe('under 1% of users');
    expect(shareOfUsers(12_407, 12_408)).toBe('over 99% of users');
  });
  it('says none and all in words, and copes with no users', () => {
    expect(shareOfUsers(0, 10)).toBe('none of the users');
    expect(shareOfUsers(10, 10)).toBe('all of the users');
    expect(shareOfUsers(0, 0)).toBe('of no users');
  });
});

describe('the addresses', () => {
  it('hints at many users behind one address, not at one user with many sessions', () => {
    expect(addressHint({ users: 1 })).toBeNull();
    expect(addressHint({ users: 2 })).toBe('2 users from one address');
    expect(addressHint({ users: 1500 })).toBe('1,500 users from one address');
  });

  it('measures each against all live sessions', () => {
    const rows = addressRows(
      [
        { ip: '203.0.113.7', sessions: 40, users: 38 },
        { ip: '2001:db8::1', sessions: 10, users: 1 },
      ],
      200,
    );
    expect(rows.map((r) => [r.ip, r.fraction, r.hint])).toEqual([
      ['203.0.113.7', 0.2, '38 users from one address'],
      ['2001:db8::1', 0.05, null],
    ]);
    expect(addressRows([{ ip: '203.0.113.7', sessions: 1, users: 1 }], 0)[0]?.fraction).toBe(0);
  });

  it('opens the sessions list only for an address its filter takes', () => {
    const rows = addressRows(
      [
        { ip: '203.0.113.7', sessions: 3, users: 1 },
        { ip: '::ffff:192.0.2.1', sessions: 2, users: 1 },
        { ip: '203.0.113.7, 10.0.0.1', sessions: 2, users: 2 },
        { ip: 'unknown', sessions: 1, users: 1 },
      ],
      8,
    );
    expect(rows.map((r) => r.filterable)).toEqual([true, true, false, false]);
  });

  it('says why there are none', () => {
    expect(noAddressSentence(BETTER_AUTH)).toBe('No live session records an address.');
    expect(noAddressSentence(AUTH_JS)).toBe('Auth.js sessions record no IP address, so there is nothing to group by address.');
  });
});

describe('sessions begun', () => {
  it('says why there is no chart where sessions record no start', () => {
    expect(noBegunSentence(AUTH_JS)).toBe(
      'Auth.js sessions record no start time, so sessions begun per hour cannot be counted.',
    );
  });
});
