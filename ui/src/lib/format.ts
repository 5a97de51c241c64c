/** How times, ids and session facts read on screen. Pure functions: every one takes `now` when it needs it. */
import type { Role } from './backend/generated';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", "in 20 min"; exact date past 30 days. */
export function relativeTime(at: number | null | undefined, now: number): string {
  if (at === null || at === undefined) return 'never';
  const diff = now - at;
  const future = diff < 0;
  const d = Math.abs(diff);
  if (d < 45 * SECOND) return future ? 'in a few seconds' : 'just now';
  let text: string;
  if (d < HOUR) text = `${Math.max(1, Math.round(d / MINUTE))} min`;
  else if (d < DAY) text = `${Math.round(d / HOUR)} h`;
  else if (d < 2 * DAY && !future) return 'yesterday';
  else if (d < 30 * DAY) {
    const days = Math.round(d / DAY);
    text = `${days} ${days === 1 ? 'day' : 'days'}`;
  } else return localDate(at);
  return future ? `in ${text}` : `${text} ago`;
}

/**
 * When something that has happened happened ("just now", "5 min ago"): never a time in the future. The
 * screen's clock ticks apart from the engine's, so the console's own last activity can be a moment ahead
 * of the screen's `now`; it is still "just now".
 */
export function pastTime(at: number | null | undefined, now: number): string {
  if (at === null || at === undefined) return 'never';
  return relativeTime(Math.min(at, now), now);
}

/** The exact instant, unambiguous, for tooltips and the audit trail: ISO 8601 in UTC. */
export function exactTime(at: number): string {
  return new Date(at).toISOString();
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** "2025-03-04" in the local time zone. */
export function localDate(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** "2025-03-04 14:05" in the local time zone. */
export function localDateTime(at: number): string {
  const d = new Date(at);
  return `${localDate(at)} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A long id shown without overwhelming the row: the first 8 characters and an ellipsis. */
export function maskId(id: string): string {
  return id.length <= 8 ? id : `${id.slice(0, 8)}…`;
}

export function roleLabel(role: Role): string {
  switch (role) {
    case 'user':
      return 'User';
    case 'support':
      return 'Support';
    case 'security_admin':
      return 'Security admin';
  }
}

/** "1 session", "3 sessions": every count the console shows goes through here. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** A count after "the": "the session", "the 3 sessions" — never "the 1 session". */
export function the(n: number, one: string, many = `${one}s`): string {
  return n === 1 ? `the ${one}` : `the ${plural(n, one, many)}`;
}

/** "1 has", "3 have": a count that is the subject of a sentence, with its verb. */
export function countWith(n: number, single: string, multiple: string): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? single : multiple}`;
}

/** A policy duration in milliseconds as people say it: "30 min", "12 h", "7 days", "90 s". */
export function durationLabel(ms: number): string {
  if (ms % DAY === 0 && ms >= DAY) return plural(ms / DAY, 'day');
  if (ms % HOUR === 0 && ms >= HOUR) return `${ms / HOUR} h`;
  if (ms % MINUTE === 0 && ms >= MINUTE) return `${ms / MINUTE} min`;
  return `${Math.round(ms / SECOND)} s`;
}
