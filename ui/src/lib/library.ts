/**
 * What the console says about a library's auth database that Warden adopted (Better Auth, Auth.js): a
 * user's ban, the choices of a ban's length, and what each action will do in the library's own terms.
 */
import type { SubjectSession, SubjectUser } from './backend/generated';
import { localDateTime, plural } from './format';
import type { Tone } from './sessions';

/** How long a ban lasts, as the ban dialog offers it ('' lasts until it is lifted). */
export const BAN_SPANS: readonly { value: string; label: string; ms: number | null }[] = [
  { value: '', label: 'Until lifted', ms: null },
  { value: '1d', label: '1 day', ms: 86_400_000 },
  { value: '7d', label: '7 days', ms: 7 * 86_400_000 },
  { value: '30d', label: '30 days', ms: 30 * 86_400_000 },
];

/** When a ban of `span` (a BAN_SPANS value) begun at `now` lapses; null: never. */
export function banUntil(span: string, now: number): number | null {
  const s = BAN_SPANS.find((b) => b.value === span);
  return s?.ms ? now + s.ms : null;
}

export interface BanStatus {
  banned: boolean;
  text: string;
  tone: Tone;
}

/**
 * "Not banned", "Banned until 2026-12-14 17:20", "Banned until lifted"; a ban whose expiry has passed
 * is lifted by Better Auth at the user's next sign-in, and says so.
 */
export function banStatus(u: Pick<SubjectUser, 'banned' | 'ban_expires'>, now: number): BanStatus {
  if (!u.banned) return { banned: false, text: 'Not banned', tone: 'ok' };
  if (u.ban_expires === null) return { banned: true, text: 'Banned until lifted', tone: 'danger' };
  if (u.ban_expires <= now)
    return { banned: true, text: 'Ban expired: lifted at their next sign-in', tone: 'warn' };
  return { banned: true, text: `Banned until ${localDateTime(u.ban_expires)}`, tone: 'danger' };
}

/** What banning does, in full, before it is confirmed. */
export function banConsequence(email: string, sessions: number, until: number | null, library: string): string {
  const length = until === null ? 'until someone lifts the ban' : `until ${localDateTime(until)}`;
  const ended = sessions > 0 ? `ends ${plural(sessions, 'session')} of theirs now` : 'ends any session of theirs';
  return `${library} refuses ${email}'s sign-ins ${length}, and this ${ended}. Your reason is recorded in Warden's audit log and, as the ban reason, in ${library}.`;
}

/** What ending one session does, in the library's terms. */
export function endSessionConsequence(s: SubjectSession, library: string): string {
  const where = [s.user_agent, s.ip].filter(Boolean).join(' from ');
  return `Deletes this session${where ? ` (${where})` : ''} from ${library}'s table: the application refuses it on its next request. Warden keeps a copy in its history, and your reason in the audit log.`;
}

/** What signing a user out everywhere does. */
export function signOutConsequence(email: string, sessions: number, library: string): string {
  return `Deletes ${plural(sessions, 'session')} of ${email} from ${library}'s table: every device they are signed in on is signed out at its next request. They can sign in again.`;
}

/** "Chrome on 10.0.1.1" style, or what is known. */
export function sessionWhere(s: SubjectSession): string {
  return [s.user_agent, s.ip].filter(Boolean).join(' · ') || 'No device or address recorded';
}

/** What the emergency sign-out does, in full, before it is confirmed. */
export function everyoneConsequence(sessions: number, users: number, library: string): string {
  if (sessions === 0) return `There is no live session in ${library}'s table: nothing will be ended. The attempt is recorded.`;
  return `Deletes every live session in ${library}'s table: ${plural(sessions, 'session')} of ${plural(users, 'user')}, in batches, each recorded in the audit log. Everyone is signed out at their next request and must sign in again.`;
}
