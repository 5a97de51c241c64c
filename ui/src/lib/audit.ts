/**
 * The audit screen's logic: the toolbar's filters as the engine's typed input (the engine checks every
 * field and names the one at fault), the rows as the keyset pager wants them, and the sentences the
 * screen shows for an event, an export and a verification.
 */
import type {
  AuditAction,
  AuditActionGroup,
  AuditEvent,
  AuditFilterInput,
  AuditQuery,
  ExportReport,
  Verification,
} from './backend/generated';
import { AUDIT_ACTION_GROUPS, AUDIT_ACTIONS } from './backend/generated';
import { localDateTime, plural, relativeTime } from './format';

export const AUDIT_PAGE_SIZE = 100;

const GROUP_LABELS: Record<AuditActionGroup, string> = {
  'session.': 'Sessions',
  'user.': 'Users',
  'policy.': 'Policy',
  'auth.': 'Sign-ins',
  'flag.': 'Flags',
  'audit.': 'Audit log',
  'database.': 'Database',
};

/** The action groups of the filter (a value ending in a dot is a group, anything else an exact action),
 * in the engine's order (generated from its vocabulary). */
export const ACTION_GROUPS: readonly { value: AuditActionGroup; label: string }[] = AUDIT_ACTION_GROUPS.map(
  (value) => ({ value, label: GROUP_LABELS[value] }),
);

/** What a group's actions are about, as in "events with session actions". */
const GROUP_NOUNS: Record<AuditActionGroup, string> = {
  'session.': 'session',
  'user.': 'user',
  'policy.': 'policy',
  'auth.': 'sign-in',
  'flag.': 'flag',
  'audit.': 'audit log',
  'database.': 'database',
};

/** Every exact action the engine records (generated from its vocabulary), offered under the groups. */
export const COMMON_ACTIONS: readonly AuditAction[] = AUDIT_ACTIONS;

export interface AuditFilters {
  actor: string;
  /** Target user: email or id. */
  user: string;
  /** '' for any, a group (`session.`) or an exact action. */
  action: string;
  status: '' | 'success' | 'failure';
  ip: string;
  /** `datetime-local` values (local time), '' for open. */
  from: string;
  to: string;
  reason: string;
}

export const NO_AUDIT_FILTERS: AuditFilters = {
  actor: '',
  user: '',
  action: '',
  status: '',
  ip: '',
  from: '',
  to: '',
  reason: '',
};

const opt = (s: string): string | null => (s.trim() === '' ? null : s.trim());

/**
 * A `datetime-local` value (local wall time) as RFC 3339 in UTC, or the text unchanged when it is not
 * one (so the engine names the malformed field rather than the UI guessing).
 */
export function localToRfc3339(value: string): string | null {
  const v = value.trim();
  if (v === '') return null;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(v)) return v;
  const t = new Date(v);
  return Number.isNaN(t.getTime()) ? v : t.toISOString();
}

export function toFilterInput(f: AuditFilters): AuditFilterInput {
  return {
    actor: opt(f.actor),
    user: opt(f.user),
    action: opt(f.action),
    status: f.status === '' ? null : f.status,
    ip: opt(f.ip),
    from: localToRfc3339(f.from),
    to: localToRfc3339(f.to),
    reason: opt(f.reason),
  };
}

export function toAuditQuery(f: AuditFilters, before: string | null, limit = AUDIT_PAGE_SIZE): AuditQuery {
  return { filter: toFilterInput(f), before: before === null ? null : Number(before), limit };
}

export function hasAuditFilters(f: AuditFilters): boolean {
  return Object.values(toFilterInput(f)).some((v) => v !== null);
}

/** "session actions, failures" — how the heading ("Events with …") and the empty state name what was
 * asked for. */
export function describeAuditFilters(f: AuditFilters): string {
  const parts: string[] = [];
  const group = ACTION_GROUPS.find((g) => g.value === f.action.trim());
  if (f.actor.trim()) parts.push(`actor “${f.actor.trim()}”`);
  if (f.user.trim()) parts.push(`user ${f.user.trim()}`);
  if (group) parts.push(`${GROUP_NOUNS[group.value]} actions`);
  else if (f.action.trim()) parts.push(`action ${f.action.trim()}`);
  if (f.status) parts.push(f.status === 'failure' ? 'failures' : 'successes');
  if (f.ip.trim()) parts.push(`IP ${f.ip.trim()}`);
  if (f.from.trim()) parts.push(`from ${f.from.trim().replace('T', ' ')}`);
  if (f.to.trim()) parts.push(`until ${f.to.trim().replace('T', ' ')}`);
  if (f.reason.trim()) parts.push(`reason containing “${f.reason.trim()}”`);
  return parts.join(', ');
}

/** An event as a pager row: keyed by its seq. */
export type AuditRow = AuditEvent & { id: string };

export function toRows(events: readonly AuditEvent[]): AuditRow[] {
  return events.map((e) => ({ ...e, id: String(e.seq) }));
}

export function nextCursor(next: number | null): string | null {
  return next === null ? null : String(next);
}

/** The stored metadata (canonical JSON text) indented for reading; the text itself when it is not JSON. */
export function prettyMetadata(metadata: string): string {
  try {
    return JSON.stringify(JSON.parse(metadata), null, 2);
  } catch {
    return metadata;
  }
}

/** The group an action belongs to, for its badge tone. */
export function actionTone(action: string): 'danger' | 'warn' | 'info' | 'ok' | '' {
  if (action.startsWith('session.') || action.endsWith('_revoked')) return 'danger';
  if (action.startsWith('policy.')) return 'warn';
  if (action.startsWith('user.')) return 'info';
  if (action.startsWith('auth.')) return 'ok';
  if (action.startsWith('flag.')) return 'info';
  return '';
}

/** Every field of an event, labelled, in the order the drawer shows them. */
/** The target user as people know them: the email when the user still exists, else the id (or a dash). */
export function targetUser(e: Pick<AuditEvent, 'target_user_id'>, emails: Record<string, string>): string {
  if (e.target_user_id === null) return '—';
  return emails[e.target_user_id] ?? e.target_user_id;
}

/** Every field of an event for its drawer; `emails` names the target user (its id in the tooltip). */
export function eventFields(
  e: AuditEvent,
  emails: Record<string, string> = {},
): { label: string; value: string; mono?: boolean; title?: string }[] {
  const v = (x: string | null | undefined): string => (x === null || x === undefined || x === '' ? '—' : x);
  const email = e.target_user_id === null ? undefined : emails[e.target_user_id];
  return [
    { label: 'Seq', value: String(e.seq), mono: true },
    { label: 'Time (UTC)', value: new Date(e.at).toISOString() },
    { label: 'Action', value: e.action, mono: true },
    { label: 'Status', value: e.status },
    { label: 'Actor', value: e.actor_label },
    { label: 'Actor kind', value: e.actor_kind },
    { label: 'Actor id', value: v(e.actor_id), mono: true },
    { label: 'IP', value: v(e.ip), mono: true },
    email === undefined
      ? { label: 'Target user', value: v(e.target_user_id), mono: true }
      : { label: 'Target user', value: email, title: e.target_user_id ?? undefined },
    { label: 'Target session', value: v(e.target_session_id), mono: true },
    { label: 'Reason', value: v(e.reason ?? eventSummary(e)) },
    { label: 'Previous hash', value: e.prev_hash, mono: true },
    { label: 'Hash', value: e.hash, mono: true },
  ];
}

export function exportSentence(r: ExportReport): string {
  return `${plural(r.rows, 'event')} written to ${r.file}`;
}

/** "Verified 3 min ago: 1,234 events up to #1,234" (the head when the check began) or the first broken
 * link, said plainly; `at` is when the check ran, so a result left on screen says how old it is. */
export function verificationSentence(v: Verification, at: number, now: number): { ok: boolean; text: string } {
  const when = relativeTime(at, now);
  if (v.broken_at === null) {
    return {
      ok: true,
      text: `Verified ${when}: ${plural(v.events_verified, 'event')} up to #${v.head_seq.toLocaleString('en-US')}, the chain is intact.`,
    };
  }
  const detail = v.detail ?? 'the chain does not match';
  return {
    ok: false,
    text: `Checked ${when}: broken link at event #${v.broken_at}: ${detail}. ${plural(v.events_verified, 'event')} before it verified.`,
  };
}

/** What an event without a reason did, where its action alone would mislead: a session its owner ended
 * is a sign-out (the console's own included), not an unexplained revocation; a failed attempt says so;
 * a session a rule ended says which rule and when it really ended. Null when the action says it. */
export function eventSummary(e: Pick<AuditEvent, 'action' | 'metadata'>): string | null {
  if (e.action !== 'session.revoked' && e.action !== 'session.ended') return null;
  let m: { by?: unknown; current?: unknown; error?: unknown; reason?: unknown; ended_at?: unknown };
  try {
    m = JSON.parse(e.metadata) as typeof m;
  } catch {
    return null;
  }
  if (m === null || typeof m !== 'object') return null;
  if (e.action === 'session.ended') {
    const rule = RULE_ENDS[String(m.reason)] ?? 'Ended by a session rule';
    return typeof m.ended_at === 'number' ? `${rule} at ${localDateTime(m.ended_at)}` : rule;
  }
  if (m.error === 'session_not_found') return 'Tried to end a session that is unknown, not theirs or already ended';
  if (m.by !== 'owner') return null;
  return m.current === true ? 'Signed out' : 'Ended one of their own sessions';
}

/** How a rule's end of a session reads. */
const RULE_ENDS: Record<string, string> = {
  idle: 'Ended by the idle timeout',
  absolute: 'Ended at its maximum lifetime',
  expired: 'Expired without a refresh',
};
