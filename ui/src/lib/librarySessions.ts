/**
 * The sessions screen of a library's auth database that Warden adopted (Better Auth, Auth.js): the filter
 * form as typed and its translation into the engine's `SubjectSessionFilter`, with an error at each field
 * that cannot be sent; the filter in words for the confirmation of ending what it takes; and what the
 * schema cannot show. Only the filters the schema answers are ever sent (the screen offers only those).
 */
import type {
  BulkEnded,
  LibraryInfo,
  SubjectSession,
  SubjectSessionFilter,
  SubjectSessionStatus,
} from './backend/generated';
import { dayStart } from './sessionsFilter';
import { localDate, plural } from './format';

export const LIBRARY_SESSIONS_PAGE = 100;

/** The filter bar as typed: dates are `yyyy-mm-dd` local calendar days from a date input, or ''. */
export interface LibrarySessionForm {
  user: string;
  ip: string;
  /** Begun on this day or later. */
  from: string;
  /** Begun before this day (the day itself is not included). */
  before: string;
  adminsOnly: boolean;
}

export const EMPTY_SESSION_FORM: LibrarySessionForm = { user: '', ip: '', from: '', before: '', adminsOnly: false };

/** The form for one address's sessions and nothing else (an address opened from the overview). */
export function formForIp(ip: string): LibrarySessionForm {
  return { ...EMPTY_SESSION_FORM, ip: ip.trim() };
}

export type SessionFormField = 'user' | 'ip' | 'from' | 'before';
/** Each wrong field's rule ("one address at a time"), shown after its label. */
export type SessionFormErrors = Partial<Record<SessionFormField, string>>;

export const FIELD_LABELS: Record<SessionFormField, string> = {
  user: 'User',
  ip: 'IP address',
  from: 'Began from',
  before: 'Began before',
};

/** The rule of an engine's field error: its message without the "`field`: " it starts with. */
export function ruleOf(message: string): string {
  return message.replace(/^`[^`]*`:\s*/, '');
}

/** "IP address: one address at a time." */
export function fieldErrorText(at: SessionFormField, rule: string): string {
  return `${FIELD_LABELS[at]}: ${rule}${/[.!?]$/.test(rule) ? '' : '.'}`;
}

/** What of the schema the filters depend on. */
export type SessionSchema = Pick<LibraryInfo, 'name' | 'session_place' | 'session_start' | 'admin_role'>;

export const NO_SESSION_FILTER: SubjectSessionFilter = {
  user: null,
  ip: null,
  created_from: null,
  created_to: null,
  admins_only: false,
};

export const SESSION_STATUSES: readonly { value: SubjectSessionStatus; label: string }[] = [
  { value: 'live', label: 'Live' },
  { value: 'over', label: 'Over' },
  { value: 'all', label: 'All' },
];

const IPV4_PART = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${IPV4_PART}(\\.${IPV4_PART}){3}$`);
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;

/** One IPv4 or IPv6 address, as text (no range, no port, no zone). */
export function isIpAddress(text: string): boolean {
  if (IPV4.test(text)) return true;
  if (!text.includes(':')) return false;
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = (half: string): string[] | null => {
    if (half === '') return [];
    const parts = half.split(':');
    const out: string[] = [];
    for (const [i, p] of parts.entries()) {
      // An IPv4 tail (::ffff:192.0.2.1) stands for the last two groups.
      if (i === parts.length - 1 && IPV4.test(p)) out.push('0', '0');
      else if (HEX_GROUP.test(p)) out.push(p);
      else return null;
    }
    return out;
  };
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (head === null || tail === null) return false;
  // An IPv4 tail only at the very end.
  if (halves.length === 2 && (halves[0] ?? '').split(':').some((p) => p.includes('.'))) return false;
  const n = head.length + tail.length;
  return halves.length === 2 ? n < 8 : n === 8;
}

/** Why the typed address cannot be sent (a rule, shown after the field's label), or null when it is one address. */
export function ipError(text: string): string | null {
  const t = text.trim();
  if (t.includes('/')) return 'one address, not a range: a session records the one it was signed in from';
  if (/[\s,;]/.test(t)) return 'one address at a time';
  return isIpAddress(t) ? null : `“${t}” is not an address; type one, such as 203.0.113.7 or 2001:db8::1`;
}

/** A date input's day as unix ms (its local midnight); null for '' or no date. */
export function dayToMs(day: string): number | null {
  return dayStart(day);
}

/** The date input's value for an instant: its local calendar day. */
export function msToDay(ms: number | null): string {
  return ms === null ? '' : localDate(ms);
}

export type BuiltFilter = { ok: true; filter: SubjectSessionFilter } | { ok: false; errors: SessionFormErrors };

/**
 * The filter to send for the form: each field the schema answers, trimmed, empty meaning any; or an error
 * at each field that is wrong. A field the schema cannot answer is never sent, whatever it holds.
 */
export function buildSessionFilter(form: LibrarySessionForm, schema: SessionSchema): BuiltFilter {
  const errors: SessionFormErrors = {};
  const user = form.user.trim();
  const ip = schema.session_place ? form.ip.trim() : '';
  if (ip !== '') {
    const e = ipError(ip);
    if (e) errors.ip = e;
  }
  let from: number | null = null;
  let before: number | null = null;
  if (schema.session_start) {
    if (form.from.trim() !== '') {
      from = dayToMs(form.from);
      if (from === null) errors.from = 'not a date';
    }
    if (form.before.trim() !== '') {
      before = dayToMs(form.before);
      if (before === null) errors.before = 'not a date';
    }
    if (from !== null && before !== null && from >= before)
      errors.from = 'must be an earlier day than “Began before”, or no session could match';
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    filter: {
      user: user === '' ? null : user,
      ip: ip === '' ? null : ip,
      created_from: from,
      created_to: before,
      admins_only: schema.admin_role && form.adminsOnly,
    },
  };
}

/** Whether the filter narrows anything: with none, "every session" is the emergency sign-out's business. */
export function hasSessionFilter(f: SubjectSessionFilter): boolean {
  return f.user !== null || f.ip !== null || f.created_from !== null || f.created_to !== null || f.admins_only;
}

/**
 * The error's place in the filter bar, for a field named by the engine (`ip`, `filter.created_from`,
 * `createdTo`); null for any other field.
 */
export function formFieldFor(field: string): SessionFormField | null {
  const last = (field.split('.').pop() ?? '').replace(/_/g, '').toLowerCase();
  switch (last) {
    case 'user':
      return 'user';
    case 'ip':
      return 'ip';
    case 'createdfrom':
      return 'from';
    case 'createdto':
      return 'before';
    default:
      return null;
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "1 Dec 2026", the local calendar day of an instant. */
export function dayLabel(ms: number): string {
  const d = new Date(ms);
  return `${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()}`;
}

/** "of a@example.test from 203.0.113.7 begun on or after 1 Dec 2026": what the filter narrows, in words. */
export function filterWords(f: SubjectSessionFilter): string {
  const parts: string[] = [];
  if (f.user !== null) parts.push(f.admins_only ? `of ${f.user}, if an admin` : `of ${f.user}`);
  else if (f.admins_only) parts.push("of the application's admins");
  if (f.ip !== null) parts.push(`from ${f.ip}`);
  if (f.created_from !== null && f.created_to !== null)
    parts.push(`begun from ${dayLabel(f.created_from)} and before ${dayLabel(f.created_to)}`);
  else if (f.created_from !== null) parts.push(`begun on or after ${dayLabel(f.created_from)}`);
  else if (f.created_to !== null) parts.push(`begun before ${dayLabel(f.created_to)}`);
  return parts.join(' ');
}

const STATUS_NOUN: Record<SubjectSessionStatus, string> = {
  live: 'live sessions',
  over: 'expired sessions',
  all: 'sessions',
};

/** "the live sessions from 203.0.113.7 begun on or after 1 Dec 2026", "the sessions". */
export function describeSessionFilter(f: SubjectSessionFilter, status: SubjectSessionStatus): string {
  const words = filterWords(f);
  return `the ${STATUS_NOUN[status]}${words ? ` ${words}` : ''}`;
}

/** The empty list, in words: "No live session from 203.0.113.7." */
export function emptySentence(f: SubjectSessionFilter, status: SubjectSessionStatus, library: string): string {
  const words = filterWords(f);
  const noun = status === 'live' ? 'live session' : status === 'over' ? 'expired session' : 'session';
  if (words) return `No ${noun} ${words}.`;
  return `No ${noun} in ${library}'s table.`;
}

/** What ending every live session the filter takes does, before it is confirmed. */
export function endMatchingConsequence(sessions: number, users: number, f: SubjectSessionFilter, library: string): string {
  const what = describeSessionFilter(f, 'live');
  if (sessions === 0) return `Nothing to end: no ${what.slice('the '.length)} now. The list may be out of date.`;
  return (
    `Ends ${plural(sessions, 'live session')} of ${plural(users, 'user')} (${what}): deletes them from ` +
    `${library}'s table in batches, each recorded in the audit log with your reason. ` +
    `${users === 1 ? 'That user is' : 'Those users are'} signed out at their next request and can sign in again.`
  );
}

/** What a bulk end did: "Ended 40 of 42 matching sessions in 1 batch; 2 had already ended." */
export function bulkEndedSentence(r: BulkEnded): string {
  const batches = plural(r.batches, 'batch', 'batches');
  if (r.cancelled)
    return `Stopped after ending ${r.ended.toLocaleString('en-US')} of ${plural(r.matched, 'matching session')} (${batches}): what it ended stays ended.`;
  if (r.matched === 0) return 'No live session matched: nothing was ended.';
  if (r.ended === r.matched) return `Ended ${plural(r.ended, 'session')} in ${batches}.`;
  const gone = r.matched - r.ended;
  return `Ended ${r.ended.toLocaleString('en-US')} of ${plural(r.matched, 'matching session')} in ${batches}; ${gone.toLocaleString('en-US')} had already ended.`;
}

/** A session whose expiry has passed: the library refuses it (rows it has not deleted yet). */
export function isOver(s: Pick<SubjectSession, 'expires_at'>, now: number): boolean {
  return s.expires_at !== null && s.expires_at <= now;
}

/** What this schema cannot show or filter on, and why: one sentence each, shown under the table. */
export function schemaGaps(schema: SessionSchema): string[] {
  const gaps: string[] = [];
  if (!schema.session_start)
    gaps.push(`No “Began” column or date filters: ${schema.name} sessions record no creation time.`);
  if (!schema.session_place)
    gaps.push(`No “IP address” or “User agent” column, nor IP filter: ${schema.name} sessions record neither.`);
  if (!schema.admin_role)
    gaps.push(
      schema.name === 'Better Auth'
        ? 'No “Admins only” filter: users have no role without Better Auth’s admin plugin.'
        : `No “Admins only” filter: ${schema.name} users have no role.`,
    );
  return gaps;
}
