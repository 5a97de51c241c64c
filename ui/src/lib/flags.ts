/** The review queue of suspicious-activity flags: labels, tones and the query a filter makes. */
import type { FlagQuery, FlagView, Resolution } from './backend';
import { browserLabel, deviceKind, deviceLabel, locationLabel } from './sessions';

export type FlagStatus = 'open' | 'dismissed' | 'actioned' | 'all';

export interface FlagFilters {
  status: FlagStatus;
  /** An email or user id; blank for every user. */
  user: string;
}

export const NO_FLAG_FILTERS: FlagFilters = { status: 'open', user: '' };

export const FLAG_PAGE = 100;

const RULES: Record<string, { label: string; explains: string }> = {
  new_country: {
    label: 'New country',
    explains: 'A sign-in from a country this account has not signed in from before.',
  },
  impossible_travel: {
    label: 'Impossible travel',
    explains: 'Two sign-ins further apart than anyone could travel in the time between them.',
  },
  rapid_sign_ins: {
    label: 'Rapid sign-ins',
    explains: 'More sign-ins in a short window than a person makes.',
  },
  success_after_failures: {
    label: 'Success after failures',
    explains: 'A successful sign-in right after a run of failed ones: a guessed password, perhaps.',
  },
};

/** The rule's name as people say it (an unknown rule is shown as stored). */
export function ruleLabel(rule: string): string {
  return RULES[rule]?.label ?? rule;
}

/** One sentence on what the rule looks for; empty for an unknown rule. */
export function ruleExplains(rule: string): string {
  return RULES[rule]?.explains ?? '';
}

/** The badge tone of a severity. */
export function severityTone(severity: string): 'danger' | 'warn' | 'info' {
  if (severity === 'high') return 'danger';
  if (severity === 'medium') return 'warn';
  return 'info';
}

/** The badge tone of a status: open needs attention, actioned was dealt with, dismissed was nothing. */
export function statusTone(status: string): 'warn' | 'ok' | 'info' {
  if (status === 'open') return 'warn';
  if (status === 'actioned') return 'ok';
  return 'info';
}

/** Whether the filter asks for anything but the default, every open flag. */
export function hasFlagFilters(f: FlagFilters): boolean {
  return f.status !== 'open' || f.user.trim() !== '';
}

export function toFlagQuery(f: FlagFilters, after: string | null, limit = FLAG_PAGE): FlagQuery {
  const user = f.user.trim();
  return { status: f.status, user: user === '' ? null : user, limit, after };
}

/** The sentence above the list: what it holds. */
export function describeFlags(f: FlagFilters): string {
  const which = f.status === 'all' ? 'Every flag' : `${f.status.charAt(0).toUpperCase()}${f.status.slice(1)} flags`;
  const user = f.user.trim();
  return `${which}${user ? ` of ${user}` : ''}, newest first`;
}

/** What closing a flag one way or the other means, for the confirmation dialog. */
export function resolutionText(resolution: Resolution, flag: Pick<FlagView, 'rule' | 'user_email'>): {
  title: string;
  consequence: string;
  confirm: string;
  toast: string;
} {
  const what = `the ${ruleLabel(flag.rule).toLowerCase()} flag on ${flag.user_email}`;
  return resolution === 'dismissed'
    ? {
        title: 'Dismiss the flag',
        consequence: `This closes ${what} as nothing wrong. The account and its sessions are left as they are.`,
        confirm: 'Dismiss',
        toast: `Dismissed ${what}.`,
      }
    : {
        title: 'Mark the flag actioned',
        consequence: `This closes ${what} as dealt with. Say in the reason what was done (e.g. the session was ended, the user was called).`,
        confirm: 'Mark actioned',
        toast: `Marked ${what} actioned.`,
      };
}

/**
 * The list after a flag was closed: under the open filter it leaves the list; otherwise it is replaced
 * by its closed self.
 */
export function afterResolve(items: FlagView[], closed: FlagView, status: FlagStatus): FlagView[] {
  if (status === 'open') return items.filter((f) => f.id !== closed.id);
  return items.map((f) => (f.id === closed.id ? closed : f));
}

/** The flagged session as the drawer says it: its device, and where it came from (address and place).
 * Null when the flag names no session. */
export function flagSession(
  f: Pick<
    FlagView,
    | 'session_id'
    | 'session_ip'
    | 'session_device'
    | 'session_browser'
    | 'session_browser_version'
    | 'session_os'
    | 'session_city'
    | 'session_country'
  >,
): { device: string; place: string } | null {
  if (f.session_id === null) return null;
  const device = [
    f.session_device === null ? null : deviceLabel(deviceKind(f.session_device)),
    browserLabel(f.session_browser, f.session_browser_version),
    f.session_os,
  ].filter((p): p is string => !!p);
  const place = [f.session_ip, locationLabel(f.session_city, f.session_country)].filter((p): p is string => !!p);
  return {
    device: device.join(' · ') || 'No device recorded',
    place: place.join(' · ') || 'No address recorded',
  };
}
