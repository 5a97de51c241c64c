/**
 * The sessions screen's filters as the admin edits them, and their translation into the engine's
 * `SessionFilter`. Empty fields mean "any"; dates are local calendar days (the "to" day is included).
 */
import type {
  BulkPlan,
  BulkRequest,
  BulkRun,
  BulkSummary,
  SessionFilter,
  SessionQuery,
  SessionSort,
  SessionState,
} from './backend/generated';
import { countWith, plural } from './format';

export const SESSIONS_PAGE = 100;

export interface SessionFilters {
  user: string;
  ip: string;
  country: string;
  device: string;
  browser: string;
  os: string;
  authMethod: string;
  client: string;
  /** `yyyy-mm-dd` from a date input, or '' */
  createdFrom: string;
  createdTo: string;
  idleFor: string;
  status: SessionState;
  privilegedOnly: boolean;
  sort: SessionSort;
}

export const NO_SESSION_FILTERS: SessionFilters = {
  user: '',
  ip: '',
  country: '',
  device: '',
  browser: '',
  os: '',
  authMethod: '',
  client: '',
  createdFrom: '',
  createdTo: '',
  idleFor: '',
  status: 'active',
  privilegedOnly: false,
  sort: 'created',
};

const text = (s: string): string | null => (s.trim() === '' ? null : s.trim());

/** Local midnight of a `yyyy-mm-dd` day as unix ms; `nextDay` gives the midnight after it. */
export function dayStart(day: string, nextDay = false): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day.trim());
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + (nextDay ? 1 : 0));
  return Number.isNaN(d.getTime()) ? null : d.getTime();
}

export function toFilter(f: SessionFilters): SessionFilter {
  return {
    user: text(f.user),
    ip: text(f.ip),
    country: text(f.country),
    device: text(f.device),
    browser: text(f.browser),
    os: text(f.os),
    auth_method: text(f.authMethod),
    client: text(f.client),
    created_from: dayStart(f.createdFrom),
    created_to: dayStart(f.createdTo, true),
    idle_for: text(f.idleFor),
    status: f.status,
    privileged_only: f.privilegedOnly,
  };
}

export function toSessionQuery(f: SessionFilters, after: string | null, limit = SESSIONS_PAGE): SessionQuery {
  return { filter: toFilter(f), sort: f.sort, after, limit };
}

/** "country DE, mobile, idle > 2h" — how the empty state and the bulk dialog name the filter. */
export function describeSessionFilters(f: SessionFilters): string {
  const parts: string[] = [];
  if (text(f.user)) parts.push(`user ${f.user.trim()}`);
  if (text(f.ip)) parts.push(`IP ${f.ip.trim()}`);
  if (text(f.country)) parts.push(`country ${f.country.trim().toUpperCase()}`);
  if (text(f.device)) parts.push(f.device.trim());
  if (text(f.browser)) parts.push(f.browser.trim());
  if (text(f.os)) parts.push(f.os.trim());
  if (text(f.authMethod)) parts.push(`signed in with ${f.authMethod.trim()}`);
  if (text(f.client)) parts.push(`client ${f.client.trim()}`);
  if (text(f.createdFrom) || text(f.createdTo))
    parts.push(`created ${f.createdFrom.trim() || '…'} to ${f.createdTo.trim() || '…'}`);
  if (text(f.idleFor)) parts.push(`idle > ${f.idleFor.trim()}`);
  if (f.privilegedOnly) parts.push('admin sessions');
  return parts.join(', ');
}

/** Whether anything narrows the list beyond the status (sort and status are not "filters" here). */
export function hasSessionFilters(f: SessionFilters): boolean {
  return describeSessionFilters(f) !== '';
}

/** The target of a bulk action: the ticked rows, or everything the filter matches. */
export function bulkRequest(
  f: SessionFilters,
  selection: readonly string[] | 'all-matching' | 'everyone',
  includeOwn: boolean,
  reason = '',
): BulkRequest {
  const target: BulkRequest['target'] =
    selection === 'everyone'
      ? 'everyone'
      : selection === 'all-matching'
        ? { filter: toFilter(f) }
        : { sessions: [...selection] };
  return { target, include_own: includeOwn, reason, batch_size: null };
}

/** What the admin must type to confirm a large or emergency action (null: no typing needed). */
export function confirmationPhrase(plan: BulkPlan, emergency: boolean): string | null {
  if (emergency) return 'SIGN OUT EVERYONE';
  return plan.needs_typed_confirmation ? `END ${plan.sessions} SESSIONS` : null;
}

/** Typed confirmation matches, ignoring case and surrounding spaces. */
export function confirmationMatches(phrase: string | null, typed: string): boolean {
  return phrase === null || typed.trim().toUpperCase() === phrase;
}

/** "1,234 sessions of 56 users will be signed out" */
export function planSentence(plan: BulkPlan): string {
  if (plan.sessions === 0) return 'No active session matches: nothing would be ended.';
  return `${plural(plan.sessions, 'active session')} of ${plural(plan.users, 'user')} will be signed out.`;
}

/** 0–100, for the progress bar. */
export function progressPercent(done: number, total: number): number {
  if (total <= 0) return 100;
  return Math.min(100, Math.round((done / total) * 100));
}

/** The summary line shown after a run. */
/** "An earlier bulk termination by ana@… stopped half-way: it ended 2 of 6 sessions and did not reach the other 4." */
export function interruptedSentence(r: BulkRun): string {
  return (
    `An earlier bulk termination by ${r.actor_label} ("${r.reason}") stopped half-way: it ended ` +
    `${r.terminated.toLocaleString('en-US')} of ${plural(r.matched, 'session')} and did not reach the other ` +
    `${(r.matched - r.terminated).toLocaleString('en-US')}.`
  );
}

export function summarySentence(s: BulkSummary): string {
  const parts = [`${plural(s.terminated, 'session')} ended`];
  if (s.already_ended) parts.push(`${s.already_ended.toLocaleString('en-US')} had already ended`);
  if (s.skipped) parts.push(`${s.skipped.toLocaleString('en-US')} kept (your own)`);
  if (s.failed) parts.push(`${s.failed.toLocaleString('en-US')} failed`);
  const head = s.cancelled ? 'Cancelled: ' : s.error ? 'Stopped: ' : '';
  return `${head}${parts.join(', ')}.`;
}

/** The bulk dialog's start button: "End 1 session", "End 40 sessions", or nothing to end. */
export function bulkStartLabel(sessions: number): string {
  return sessions > 0 ? `End ${plural(sessions, 'session')}` : 'Nothing to end';
}

/** "1 of the selected sessions has already ended." */
export function alreadyEndedSentence(n: number): string {
  return `${countWith(n, 'of the selected sessions has', 'of the selected sessions have')} already ended.`;
}
