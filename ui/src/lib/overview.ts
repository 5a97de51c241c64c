/**
 * The overview screen's logic: the hourly sign-in counts as the chart's scale and paths and as daily
 * totals for screen readers, the shares of countries and devices with their remainder, the locks in words and the
 * admin actions as sentences.
 */
import type { AuditEvent, HourCount, LockedAccount, Share } from './backend/generated';
import { localDate, localDateTime, relativeTime } from './format';
import { deviceKind, deviceLabel } from './sessions';

/** A y axis of counts from 0 that holds `max`, in round steps (1, 2 or 5 × a power of ten), about `count` of them. */
export function niceScale(max: number, count = 4): { max: number; step: number; ticks: number[] } {
  const raw = Math.max(1, max) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  // Counts are whole: never a step under one.
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power);
  const top = Math.max(step, Math.ceil(Math.max(1, max) / step) * step);
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Math.round(v));
  return { max: top, step, ticks };
}

/**
 * A stepped area for counts per hour: each count holds from the start of its hour to the next, down
 * to `base`. `x(i)` is the left edge of hour `i` (and `x(n)` the right edge of the last).
 */
export function stepArea(values: readonly number[], x: (i: number) => number, y: (v: number) => number, base: number): string {
  if (values.length === 0) return '';
  const f = (n: number): string => (Math.round(n * 10) / 10).toString();
  let d = `M${f(x(0))} ${f(base)}`;
  values.forEach((v, i) => {
    d += `V${f(y(v))}H${f(x(i + 1))}`;
  });
  return `${d}V${f(base)}Z`;
}

/** The same steps as a line along the top, without the area. */
export function stepLine(values: readonly number[], x: (i: number) => number, y: (v: number) => number): string {
  if (values.length === 0) return '';
  const f = (n: number): string => (Math.round(n * 10) / 10).toString();
  let d = `M${f(x(0))} ${f(y(values[0]!))}`;
  values.forEach((v, i) => {
    d += `V${f(y(v))}H${f(x(i + 1))}`;
  });
  return d;
}

/** "Mar 4, 14:00–15:00" (local time). */
export function hourLabel(start: number): string {
  const d = new Date(start);
  const e = new Date(start + 3_600_000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${MONTHS[d.getMonth()]} ${d.getDate()}, ${pad(d.getHours())}:00–${pad(e.getHours())}:00`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function totals(hours: readonly HourCount[]): { signIns: number; failures: number } {
  let signIns = 0;
  let failures = 0;
  for (const h of hours) {
    signIns += h.sign_ins;
    failures += h.failures;
  }
  return { signIns, failures };
}

/** Sign-ins and failures per local day, oldest first (the chart's text alternative). */
export function dailyTotals(hours: readonly HourCount[]): { day: string; signIns: number; failures: number }[] {
  const days: { day: string; signIns: number; failures: number }[] = [];
  for (const h of hours) {
    const day = localDate(h.start);
    let last = days[days.length - 1];
    if (!last || last.day !== day) {
      last = { day, signIns: 0, failures: 0 };
      days.push(last);
    }
    last.signIns += h.sign_ins;
    last.failures += h.failures;
  }
  return days;
}

let regions: Intl.DisplayNames | null | undefined;

/** "Germany (DE)", or the code alone when the name is unknown; "Unknown" for none. */
export function countryLabel(code: string | null): string {
  if (!code) return 'Unknown';
  if (regions === undefined) {
    try {
      regions = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
    } catch {
      regions = null;
    }
  }
  let name: string | undefined;
  try {
    name = regions?.of(code.toUpperCase());
  } catch {
    name = undefined;
  }
  return name && name !== code.toUpperCase() ? `${name} (${code.toUpperCase()})` : code.toUpperCase();
}

export function deviceShareLabel(device: string | null): string {
  return device ? deviceLabel(deviceKind(device)) : 'Unknown device';
}

export interface ShareRow {
  key: string;
  label: string;
  count: number;
  /** Of all active sessions, 0–100, rounded. */
  percent: number;
  /** The bar's length, 0–1: the share of all active sessions. */
  fraction: number;
}

/** The listed shares, and "Other" for the sessions outside them when there are any. */
export function shareRows(shares: readonly Share[], total: number, label: (v: string | null) => string): ShareRow[] {
  const rows = shares.map((s) => ({ key: s.value ?? '(none)', label: label(s.value), count: s.sessions }));
  const rest = total - rows.reduce((n, r) => n + r.count, 0);
  if (rest > 0) rows.push({ key: '(other)', label: 'Other', count: rest });
  return rows.map((r) => ({
    ...r,
    percent: total > 0 ? Math.round((100 * r.count) / total) : 0,
    fraction: total > 0 ? r.count / total : 0,
  }));
}

/** "Permanently (until unlocked)", "until 14:05 (in 12 min)". */
export function lockLabel(l: Pick<LockedAccount, 'locked_until' | 'locked_permanently'>, now: number): string {
  if (l.locked_permanently || l.locked_until === null) return 'Until an administrator unlocks it';
  return `Until ${localDateTime(l.locked_until)} (${relativeTime(l.locked_until, now)})`;
}

const ACTIONS: Record<string, string> = {
  'session.revoked': 'Ended a session',
  'user.sessions_revoked': 'Signed a user out everywhere',
  'session.bulk_revoked': 'Ended sessions in bulk',
  'user.unlocked': 'Unlocked an account',
  'user.totp_reset': 'Reset two-factor',
  'user.banned': 'Banned a user',
  'user.unbanned': 'Lifted a ban',
  'database.adopted': 'Adopted the database',
  'policy.updated': 'Changed the policy',
  'policy.rolled_back': 'Rolled the policy back',
  'audit.exported': 'Exported the audit log',
  'audit.verified': 'Verified the audit log',
  'flag.dismissed': 'Dismissed a flag',
  'flag.actioned': 'Actioned a flag',
};

/** What an admin did, in words: "Ended sessions in bulk (emergency: 1,204 ended)". */
export function adminActionLabel(e: Pick<AuditEvent, 'action' | 'metadata'>): string {
  const base = ACTIONS[e.action] ?? e.action;
  if (e.action === 'session.bulk_revoked' || e.action === 'user.sessions_revoked') {
    try {
      const m = JSON.parse(e.metadata) as { target?: string; terminated?: number; count?: number };
      const n = m.terminated ?? m.count;
      const emergency = m.target === 'everyone';
      if (emergency) return `Signed everyone out (emergency${n !== undefined ? `: ${n.toLocaleString('en-US')} ended` : ''})`;
      if (n !== undefined) return `${base} (${n.toLocaleString('en-US')} ended)`;
    } catch {
      // Metadata that is not JSON: the action alone says enough.
    }
  }
  return base;
}
