/**
 * The overview of a library's auth database that Warden adopted (Better Auth, Auth.js): the tiles with what
 * each count means, and, for a count the schema cannot give, why in words (never a 0 that would read as
 * "none"); the addresses holding the most live sessions, with a hint where many users share one; and what
 * to say where sessions record no start or no address.
 */
import type { AddressShare, LibraryInfo, SubjectOverview } from './backend/generated';
import { isIpAddress } from './librarySessions';
import { plural } from './format';

/** What of the library the wording depends on. */
export type LibrarySchema = Pick<LibraryInfo, 'name' | 'session_place' | 'session_start'>;

export type TileKey = 'users' | 'live' | 'banned' | 'two_factor' | 'unverified' | 'admins';

export interface Tile {
  key: TileKey;
  label: string;
  /** Null when the schema cannot count it: then `unavailable` says why. */
  value: number | null;
  /** The line under the value: what it counts, or why it cannot. */
  caption: string;
  unavailable: boolean;
  /** The screen a click on the tile opens, if any. */
  opens: 'users' | 'sessions' | null;
}

const isBetterAuth = (library: Pick<LibraryInfo, 'name'>): boolean => library.name === 'Better Auth';

/** Why a count the schema cannot give is missing: "Needs Better Auth's admin plugin". */
export function unavailableReason(key: 'banned' | 'two_factor' | 'admins', library: Pick<LibraryInfo, 'name'>): string {
  const ba = isBetterAuth(library);
  switch (key) {
    case 'banned':
      return ba ? "Needs Better Auth's admin plugin" : `${library.name} has no ban`;
    case 'two_factor':
      return ba ? "Needs Better Auth's twoFactor plugin" : `${library.name} has no two-factor`;
    case 'admins':
      return ba ? "Needs the role column of Better Auth's admin plugin" : `${library.name} users have no role`;
  }
}

/**
 * "12% of users"; a share that rounds to an end but is not there says so ("under 1%", "over 99%"), so
 * one banned user among thousands never reads as none.
 */
export function shareOfUsers(n: number, users: number): string {
  if (users <= 0) return 'of no users';
  if (n <= 0) return 'none of the users';
  if (n >= users) return 'all of the users';
  const p = Math.round((100 * n) / users);
  if (p < 1) return 'under 1% of users';
  if (p > 99) return 'over 99% of users';
  return `${p}% of users`;
}

/** The six tiles, in the order shown. */
export function overviewTiles(o: SubjectOverview, library: Pick<LibraryInfo, 'name'>): Tile[] {
  const counted = (
    key: TileKey,
    label: string,
    value: number,
    caption: string,
    opens: Tile['opens'] = null,
  ): Tile => ({ key, label, value, caption, unavailable: false, opens });
  const share = (key: 'banned' | 'two_factor' | 'admins', label: string, value: number | null, caption: (n: number) => string): Tile =>
    value === null
      ? { key, label, value: null, caption: unavailableReason(key, library), unavailable: true, opens: null }
      : counted(key, label, value, caption(value));
  return [
    counted('users', 'Users', o.users, `in ${library.name}'s table`, 'users'),
    counted('live', 'Live sessions', o.live_sessions, `of ${plural(o.live_users, 'user')}`, 'sessions'),
    share('banned', 'Banned now', o.banned, (n) => shareOfUsers(n, o.users)),
    share('two_factor', 'Two-factor on', o.two_factor, (n) => shareOfUsers(n, o.users)),
    counted('unverified', 'Unverified emails', o.unverified, shareOfUsers(o.unverified, o.users)),
    share('admins', 'Admins', o.admins, () => 'users with the admin role'),
  ];
}

/** "3 users from one address", for an address more than one user signs in from; null otherwise. */
export function addressHint(a: Pick<AddressShare, 'users'>): string | null {
  return a.users > 1 ? `${a.users.toLocaleString('en-US')} users from one address` : null;
}

export interface AddressRow extends AddressShare {
  /** The bar's length, 0–1: the address's share of all live sessions. */
  fraction: number;
  hint: string | null;
  /**
   * One address the sessions screen can filter on. An address column may hold what a proxy forwarded
   * ("203.0.113.7, 10.0.0.1"), which no filter takes: such a row is listed but does not open the list.
   */
  filterable: boolean;
}

export function addressRows(addresses: readonly AddressShare[], liveSessions: number): AddressRow[] {
  return addresses.map((a) => ({
    ...a,
    fraction: liveSessions > 0 ? Math.min(1, a.sessions / liveSessions) : 0,
    hint: addressHint(a),
    filterable: isIpAddress(a.ip.trim()),
  }));
}

/** Why the address table is empty, in words. */
export function noAddressSentence(library: LibrarySchema): string {
  return library.session_place
    ? 'No live session records an address.'
    : `${library.name} sessions record no IP address, so there is nothing to group by address.`;
}

/** Why there is no chart of sessions begun. */
export function noBegunSentence(library: Pick<LibraryInfo, 'name'>): string {
  return `${library.name} sessions record no start time, so sessions begun per hour cannot be counted.`;
}
