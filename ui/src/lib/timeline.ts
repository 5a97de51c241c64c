/**
 * The user timeline's logic, free of the DOM: the time ranges, the scale from time to pixels and its
 * ticks, packing bars into lanes so none overlap, and the words and colours a bar or a mark stands for.
 * The engine decides where each session began and ended and why; this only lays that out.
 */
import type { MarkKind, SessionOutcome, TimelineMark, TimelineSession, UserTimeline } from './backend/generated';
import { localDateTime, plural } from './format';
import { authMethodLabel, browserLabel, deviceKind, deviceLabel, locationLabel } from './sessions';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export type RangeKey = '24h' | '7d' | '30d' | '90d' | 'custom';

export const RANGES: readonly { key: Exclude<RangeKey, 'custom'>; label: string; span: number }[] = [
  { key: '24h', label: '24 h', span: DAY },
  { key: '7d', label: '7 days', span: 7 * DAY },
  { key: '30d', label: '30 days', span: 30 * DAY },
  { key: '90d', label: '90 days', span: 90 * DAY },
];

/** The preset range ending now. */
export function presetRange(key: Exclude<RangeKey, 'custom'>, now: number): { from: number; to: number } {
  const span = RANGES.find((r) => r.key === key)?.span ?? 7 * DAY;
  return { from: now - span, to: now };
}

/** A `datetime-local` value (local wall time) in unix milliseconds, or null when it is not one. */
export function parseLocal(value: string): number | null {
  const v = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(v)) return null;
  const t = new Date(v).getTime();
  return Number.isNaN(t) ? null : t;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** Unix milliseconds as a `datetime-local` value (local wall time, minutes). */
export function toLocalInput(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A linear map from `[from, to]` onto `[x0, x1]` pixels, and back. */
export interface TimeScale {
  x(t: number): number;
  t(x: number): number;
  from: number;
  to: number;
  x0: number;
  x1: number;
}

export function timeScale(from: number, to: number, x0: number, x1: number): TimeScale {
  const span = Math.max(1, to - from);
  const width = x1 - x0;
  return {
    from,
    to,
    x0,
    x1,
    x: (t) => x0 + ((t - from) / span) * width,
    t: (x) => from + ((x - x0) / width) * span,
  };
}

const STEPS = [HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface Tick {
  at: number;
  label: string;
  /** The first tick of a day (its label names the day). */
  major: boolean;
}

/** "Mar 4" in local time. */
export function dayLabel(at: number): string {
  const d = new Date(at);
  return `${MONTHS[d.getMonth()]} ${d.getDate()}`;
}

/**
 * Ticks at round local times (whole hours, or midnights), as many as fit `width` pixels at
 * `spacing` pixels apart: "14:00" within a day, "Mar 4" at midnight and for steps of a day or more.
 */
export function timeTicks(from: number, to: number, width: number, spacing = 80): Tick[] {
  if (to <= from || width <= 0) return [];
  const fit = Math.max(1, Math.floor(width / spacing));
  const step = STEPS.find((s) => (to - from) / s <= fit) ?? STEPS[STEPS.length - 1]!;
  const start = new Date(from);
  if (step < DAY) {
    start.setMinutes(0, 0, 0);
    const hours = step / HOUR;
    start.setHours(Math.ceil((start.getHours() + (start.getTime() < from ? 1 : 0)) / hours) * hours);
  } else {
    start.setHours(0, 0, 0, 0);
    if (start.getTime() < from) start.setDate(start.getDate() + 1);
  }
  const ticks: Tick[] = [];
  const d = start;
  while (d.getTime() <= to && ticks.length < 500) {
    const at = d.getTime();
    const midnight = d.getHours() === 0 && d.getMinutes() === 0;
    ticks.push({
      at,
      label: step >= DAY || midnight ? dayLabel(at) : `${pad(d.getHours())}:00`,
      major: midnight,
    });
    if (step < DAY) d.setHours(d.getHours() + step / HOUR);
    else d.setDate(d.getDate() + step / DAY);
  }
  return ticks;
}

export interface Span {
  start: number;
  end: number;
}

/**
 * Lanes for bars in order of start: each bar goes to the first lane whose last bar ends, in pixels, at
 * least `gap` before it begins. A bar is at least `minWidth` pixels wide (a five-minute session over
 * 90 days would be invisible otherwise), so bars never overlap on screen.
 */
export function packLanes(spans: readonly Span[], scale: TimeScale, minWidth = 3, gap = 2): { lane: number[]; lanes: number } {
  const ends: number[] = [];
  const lane = spans.map((s) => {
    const x0 = scale.x(s.start);
    const x1 = Math.max(scale.x(s.end), x0 + minWidth);
    let i = ends.findIndex((e) => e + gap <= x0);
    if (i === -1) i = ends.push(x1) - 1;
    else ends[i] = x1;
    return i;
  });
  return { lane, lanes: ends.length };
}

/** The bar's pixel extent, clipped to the scale, at least `minWidth` wide. */
export function barExtent(s: Span, scale: TimeScale, minWidth = 3): { x: number; width: number } {
  const x0 = Math.max(scale.x0, scale.x(s.start));
  const x1 = Math.min(scale.x1, Math.max(scale.x(s.end), scale.x(s.start) + minWidth));
  return { x: x0, width: Math.max(minWidth, x1 - x0) };
}

/** The colour families of the bars, for the legend. */
export type OutcomeGroup = 'live' | 'signed_out' | 'admin' | 'bulk' | 'emergency' | 'rule' | 'evicted' | 'other';

const OUTCOMES: Record<SessionOutcome, { label: string; group: OutcomeGroup }> = {
  live: { label: 'Live', group: 'live' },
  user_logout: { label: 'Signed out', group: 'signed_out' },
  user_revoked: { label: 'Ended by the user from another session', group: 'signed_out' },
  admin: { label: 'Ended by an administrator', group: 'admin' },
  bulk: { label: 'Ended in a bulk sign-out', group: 'bulk' },
  emergency: { label: 'Ended by the emergency sign-out', group: 'emergency' },
  evicted: { label: 'Evicted (session limit)', group: 'evicted' },
  password_change: { label: 'Ended by a password change', group: 'other' },
  idle: { label: 'Idle timeout', group: 'rule' },
  absolute: { label: 'Reached its maximum lifetime', group: 'rule' },
  expired: { label: 'Expired', group: 'rule' },
  other: { label: 'Ended', group: 'other' },
};

export const GROUP_LABELS: Record<OutcomeGroup, string> = {
  live: 'Live',
  signed_out: 'Signed out',
  admin: 'Admin',
  bulk: 'Bulk',
  emergency: 'Emergency',
  rule: 'Idle or expired',
  evicted: 'Evicted',
  other: 'Other',
};

export function outcomeGroup(o: SessionOutcome): OutcomeGroup {
  return OUTCOMES[o].group;
}

/** "Signed out", "Idle timeout", or the stored reason for one this console does not know. */
export function outcomeLabel(s: Pick<TimelineSession, 'outcome' | 'revoke_reason'>): string {
  if (s.outcome === 'other' && s.revoke_reason) return `Ended (${s.revoke_reason})`;
  return OUTCOMES[s.outcome].label;
}

/** How many bars of each colour, in legend order, only those present. */
export function legend(sessions: readonly Pick<TimelineSession, 'outcome'>[]): { group: OutcomeGroup; label: string; count: number }[] {
  const counts = new Map<OutcomeGroup, number>();
  for (const s of sessions) counts.set(outcomeGroup(s.outcome), (counts.get(outcomeGroup(s.outcome)) ?? 0) + 1);
  return (Object.keys(GROUP_LABELS) as OutcomeGroup[])
    .filter((g) => counts.has(g))
    .map((g) => ({ group: g, label: GROUP_LABELS[g], count: counts.get(g)! }));
}

const MARKS: Record<MarkKind, string> = {
  refreshed: 'Refreshed',
  ip_changed: 'IP changed',
  elevated: 'Re-authenticated',
  revoked: 'Ended',
  sign_in_failed: 'Sign-in failed',
  locked: 'Account locked',
  unlocked: 'Account unlocked',
};

export function markLabel(kind: MarkKind): string {
  return MARKS[kind];
}

/** "45 min", "19 h", "3 days". */
export function spanLabel(ms: number): string {
  if (ms < HOUR) return `${Math.max(1, Math.round(ms / MINUTE))} min`;
  if (ms < 2 * DAY) return `${Math.round(ms / HOUR)} h`;
  return `${Math.round(ms / DAY)} days`;
}

/** A session's own marks, by its position; and the account's (failed sign-ins, locks). */
export function splitMarks(tl: Pick<UserTimeline, 'marks'>): { bySession: Map<number, TimelineMark[]>; account: TimelineMark[] } {
  const bySession = new Map<number, TimelineMark[]>();
  const account: TimelineMark[] = [];
  for (const m of tl.marks) {
    if (m.session === null) account.push(m);
    else {
      const list = bySession.get(m.session);
      if (list) list.push(m);
      else bySession.set(m.session, [m]);
    }
  }
  return { bySession, account };
}

/** The lines a bar's tooltip shows: what, where, when, how it ended, what happened on it. */
export function sessionLines(s: TimelineSession, marks: readonly TimelineMark[], now: number): string[] {
  const what = [deviceLabel(deviceKind(s.device)), browserLabel(s.browser, null), s.os].filter(Boolean).join(' · ');
  const where = [s.ip, locationLabel(s.city, s.country)].filter(Boolean).join(' · ') || 'Address unknown';
  const end = s.ended_at ?? now;
  const when = `${localDateTime(s.created_at)} → ${s.ended_at === null ? 'now' : localDateTime(s.ended_at)} (${spanLabel(end - s.created_at)})`;
  const rules = ['idle', 'absolute', 'expired'];
  const byRule = rules.includes(s.outcome);
  // A revocation that came after a rule had ended the session: said, but not as its end.
  const later = byRule && s.revoke_reason !== null && !rules.includes(s.revoke_reason);
  const by = s.revoked_by && !byRule && s.outcome !== 'user_logout' ? ` by ${s.revoked_by}` : '';
  const then = later ? ` · revoked later${s.revoked_by ? ` by ${s.revoked_by}` : ''}` : '';
  const how =
    s.ended_at === null
      ? `Live${s.is_current ? ' · this console' : ''} · ${authMethodLabel(s.auth_method)}`
      : `${outcomeLabel(s)}${by}${then} · ${authMethodLabel(s.auth_method)}`;
  const lines = [what || 'Unknown device', where, when, how];
  const refreshes = marks.filter((m) => m.kind === 'refreshed').length;
  const ipChanges = marks.filter((m) => m.kind === 'ip_changed');
  const elevations = marks.filter((m) => m.kind === 'elevated').length;
  const events: string[] = [];
  if (refreshes) events.push(plural(refreshes, 'refresh', 'refreshes'));
  if (ipChanges.length === 1) events.push(`IP changed ${ipChanges[0]!.detail ?? ''} to ${ipChanges[0]!.ip ?? '?'}`.replace('  ', ' '));
  else if (ipChanges.length > 1) events.push(`${ipChanges.length} IP changes`);
  if (elevations) events.push(`re-authenticated ${elevations}×`);
  if (events.length) lines.push(events.join(' · '));
  return lines;
}

/** The lines of a mark on the account's axis. */
export function markLines(m: TimelineMark): string[] {
  const lines = [`${markLabel(m.kind)} · ${localDateTime(m.at)}`];
  if (m.kind === 'sign_in_failed') {
    const why: Record<string, string> = {
      bad_password: 'wrong password',
      bad_totp: 'wrong two-factor code',
      locked: 'the account was locked',
      unknown_user: 'unknown account',
    };
    lines.push([m.detail ? (why[m.detail] ?? m.detail) : null, m.ip].filter(Boolean).join(' · '));
  } else if (m.kind === 'locked') {
    lines.push(m.until !== null ? `until ${localDateTime(m.until)}` : (m.detail ?? 'until an administrator unlocks it'));
  } else if (m.detail) {
    lines.push(m.detail);
  }
  return lines;
}

/** Where the cursor of a list of `total` items moves on a key (time order), or null for other keys. */
export function stepCursor(key: string, cursor: number, total: number): number | null {
  if (total === 0) return null;
  const to: Record<string, number> = {
    ArrowRight: cursor + 1,
    ArrowDown: cursor + 1,
    ArrowLeft: cursor - 1,
    ArrowUp: cursor - 1,
    PageDown: cursor + 10,
    PageUp: cursor - 10,
    Home: 0,
    End: total - 1,
  };
  const t = to[key];
  return t === undefined ? null : Math.max(0, Math.min(total - 1, t));
}

/** The index of the item nearest to `x` within `maxDistance` pixels, or -1. */
export function nearest(xs: readonly number[], x: number, maxDistance: number): number {
  let best = -1;
  let bestD = maxDistance;
  for (let i = 0; i < xs.length; i++) {
    const d = Math.abs(xs[i]! - x);
    if (d <= bestD) {
      best = i;
      bestD = d;
    }
  }
  return best;
}

/** The account's marks (in time order, at `xs`) grouped where they would be drawn on top of each other
 * (within `within` px, as marks of the same instant are): each group is drawn, hovered and stepped
 * through as one, and says every mark it holds. */
export function groupMarks(xs: readonly number[], within = 4): number[][] {
  const groups: number[][] = [];
  let start = Number.NEGATIVE_INFINITY;
  xs.forEach((x, i) => {
    const last = groups[groups.length - 1];
    if (last && x - start <= within) last.push(i);
    else {
      groups.push([i]);
      start = x;
    }
  });
  return groups;
}

const MARK_WEIGHT: Record<string, number> = { locked: 3, sign_in_failed: 2, unlocked: 1 };

/** The mark a group is drawn as: a lock over a failure over an unlock. */
export function groupFace(marks: readonly TimelineMark[]): TimelineMark {
  return marks.reduce((a, b) => ((MARK_WEIGHT[b.kind] ?? 0) > (MARK_WEIGHT[a.kind] ?? 0) ? b : a));
}

/** A group's tooltip: a single mark's own lines, or every mark of the group, one line each, alike ones
 * counted once ("… (×20)"), at most `shown` lines of them. */
export function groupLines(marks: readonly TimelineMark[], shown = 4): string[] {
  const first = marks[0];
  if (!first) return [];
  if (marks.length === 1) return markLines(first);
  const alike = new Map<string, number>();
  for (const m of marks) {
    const [, detail] = markLines(m);
    const line = detail ? `${markLabel(m.kind)} · ${detail}` : markLabel(m.kind);
    alike.set(line, (alike.get(line) ?? 0) + 1);
  }
  const lines = [`${plural(marks.length, 'event')} at ${localDateTime(first.at)}`];
  const distinct = [...alike];
  for (const [line, n] of distinct.slice(0, shown)) lines.push(n > 1 ? `${line} (×${n})` : line);
  const rest = distinct.slice(shown).reduce((sum, [, n]) => sum + n, 0);
  if (rest > 0) lines.push(`and ${plural(rest, 'more', 'more')}`);
  return lines;
}
