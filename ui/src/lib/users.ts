/** What a user row and the user's cards say about lockout and two-factor. */
import type { Capabilities, LockView, UndeliveredMail, UserSummary, UserView } from './backend/generated';
import { localDateTime, pastTime, plural, the } from './format';
import type { Tone } from './sessions';

/** What an operator who is not signed in (or whose role allows nothing) may do: nothing. */
export const NO_CAPABILITIES: Capabilities = {
  unlock: false,
  revoke_sessions: false,
  reset_totp: false,
  view_policy: false,
  bulk_revoke: false,
  view_audit: false,
  export_audit: false,
  review_flags: false,
};

export interface Badge {
  key: 'locked' | 'locked-permanently' | 'totp' | 'unverified' | 'disabled' | 'sessions';
  label: string;
  tone: Tone;
}

/** The badges of a users-list row, in reading order. */
export function userBadges(u: UserSummary): Badge[] {
  const badges: Badge[] = [];
  if (u.locked && u.locked_permanently) badges.push({ key: 'locked-permanently', label: 'Permanently locked', tone: 'danger' });
  else if (u.locked) badges.push({ key: 'locked', label: 'Locked', tone: 'danger' });
  if (u.disabled) badges.push({ key: 'disabled', label: 'Disabled', tone: 'danger' });
  if (u.totp_enabled) badges.push({ key: 'totp', label: '2FA', tone: 'ok' });
  if (!u.email_verified) badges.push({ key: 'unverified', label: 'Unverified', tone: 'warn' });
  if (u.active_sessions > 0)
    badges.push({ key: 'sessions', label: `${plural(u.active_sessions, 'active session')}`, tone: 'info' });
  return badges;
}

export interface LockoutStatus {
  locked: boolean;
  text: string;
}

/** "Not locked", "Locked until 2025-03-04 14:05", "Locked until an administrator unlocks it". */
export function lockoutStatus(u: Pick<UserView, 'locked' | 'locked_until' | 'locked_permanently'>): LockoutStatus {
  if (!u.locked) return { locked: false, text: 'Not locked' };
  if (u.locked_permanently || u.locked_until === null) {
    return { locked: true, text: 'Locked until an administrator unlocks it' };
  }
  return { locked: true, text: `Locked until ${localDateTime(u.locked_until)}` };
}

/**
 * Why the account is locked, in one sentence: the failed sign-ins that caused the lock, where the last
 * came from, when, and which lock in a row it is ("After 5 failed sign-ins, the last from 203.0.113.9,
 * 10 min ago; the second lock in a row").
 */
export function lockCause(l: LockView, now: number): string {
  const what = l.failures === null ? 'After failed sign-ins' : `After ${plural(l.failures, 'failed sign-in')}`;
  const from = l.ip ? `, the last from ${l.ip}` : '';
  const when = l.since === null ? '' : `, ${pastTime(l.since, now)}`;
  const ordinals = ['', 'first', 'second', 'third', 'fourth', 'fifth'];
  const nth = l.lock_count > 1 ? `; the ${ordinals[l.lock_count] ?? `${l.lock_count}th`} lock in a row` : '';
  return `${what}${from}${when}${nth}.`;
}

/** An email the server could not deliver, for the user page: "Verification email not delivered (3 tries): …". */
export function undeliveredText(m: UndeliveredMail, now: number): string {
  const what = m.kind === 'verification' ? 'Verification email' : 'Email';
  const tries = plural(m.attempts, 'try', 'tries');
  const state =
    m.gave_up_at !== null
      ? `given up ${pastTime(m.gave_up_at, now)}`
      : m.next_at !== null && m.next_at > now
        ? `tried again at ${localDateTime(m.next_at)}`
        : 'to be tried again now';
  const why = m.last_error ? `: ${m.last_error}` : '';
  return `${what} not delivered (${tries}; ${state})${why}`;
}

/** Unlock is offered when there is something to clear: a lock, or failures counting towards one. */
export function canUnlock(u: Pick<UserView, 'locked' | 'failed_count'>, can: Capabilities): boolean {
  return can.unlock && (u.locked || u.failed_count > 0);
}

export function canResetTotp(u: Pick<UserView, 'totp_enabled'>, can: Capabilities): boolean {
  return can.reset_totp && u.totp_enabled;
}

/** What the unlock dialog promises, in full. */
export function unlockConsequence(u: Pick<UserView, 'email' | 'locked' | 'locked_permanently' | 'failed_count' | 'lock_count'>): string {
  const parts: string[] = [];
  if (u.locked) parts.push(u.locked_permanently ? `Removes the permanent lock on ${u.email}` : `Removes the lock on ${u.email}`);
  else parts.push(`Clears the failed sign-in attempts of ${u.email}`);
  const counters = `resets the failed-attempt count (${u.failed_count}) and the lock count (${u.lock_count}) to zero`;
  return `${parts.join('')}, and ${counters}, so the next lock starts from the shortest duration. They can sign in again at once. Your reason is recorded in the audit log.`;
}

/** The users list's status line: "1 user", "300+ users loaded" while more pages remain. */
export function usersLoaded(n: number, done: boolean): string {
  return done ? plural(n, 'user') : `${n.toLocaleString('en-US')}+ users loaded`;
}

/** What "Sign out everywhere" does, for the confirmation: "Ends the active session of …" for one. */
export function signOutEverywhereConsequence(active: number, who: string): string {
  return (
    `Ends ${the(active, 'active session')} of ${who} now, on every device. They must sign in again ` +
    'everywhere. Your reason is recorded in the audit log.'
  );
}
