/**
 * The policy editor's pure parts: the sections of the form, which keys a draft changes, the errors of the
 * core's preview placed at their fields, and the simulation in words. Every rule itself is the engine's
 * (`preview_policy` answers with each broken rule); nothing here decides whether a value is allowed.
 */
import type {
  FieldGroup,
  PolicyChange,
  PolicyEntry,
  PolicyField,
  Simulation,
  Violation,
} from './backend/generated';
import { plural } from './format';

/** The form's sections, in order, with their titles. */
export const GROUPS: readonly { id: FieldGroup; title: string; blurb: string }[] = [
  { id: 'sessions', title: 'Sessions', blurb: 'How long the application’s sessions last.' },
  {
    id: 'privileged_sessions',
    title: 'Privileged sessions',
    blurb: 'Support and security admin sessions, this console’s included; never looser than ordinary ones.',
  },
  { id: 'lockout', title: 'Lockout', blurb: 'When repeated failed sign-ins lock an account, and for how long.' },
  { id: 'passwords', title: 'Passwords', blurb: 'What new passwords must look like, and how they are hashed.' },
  { id: 'email_verification', title: 'Email verification', blurb: 'Verification links and whether sign-in needs one.' },
  {
    id: 'detection',
    title: 'Suspicious sign-ins',
    blurb: 'Which sign-ins raise a flag for review, and whether a flagged session must re-authenticate.',
  },
];

export interface FieldSection {
  id: FieldGroup;
  title: string;
  blurb: string;
  fields: PolicyField[];
}

/** The fields under their sections, in the engine's key order; empty sections are left out. */
export function sections(fields: readonly PolicyField[]): FieldSection[] {
  return GROUPS.map((g) => ({ ...g, fields: fields.filter((f) => f.group === g.id) })).filter(
    (s) => s.fields.length > 0,
  );
}

/** A draft: the text of every field as the admin typed it. */
export type Draft = Record<string, string>;

export function draftOf(fields: readonly PolicyField[]): Draft {
  return Object.fromEntries(fields.map((f) => [f.key, f.value]));
}

/** The keys whose typed text differs from the value in force (surrounding spaces do not count). */
export function changedEntries(fields: readonly PolicyField[], draft: Draft): PolicyEntry[] {
  const out: PolicyEntry[] = [];
  for (const f of fields) {
    const typed = draft[f.key];
    if (typed !== undefined && typed.trim() !== f.value) out.push({ key: f.key, value: typed.trim() });
  }
  return out;
}

/** The engine's errors by field, each field's rules in the order given. */
export function errorsByField(violations: readonly Violation[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const v of violations) {
    const list = m.get(v.field);
    if (list) list.push(v.rule);
    else m.set(v.field, [v.rule]);
  }
  return m;
}

/** Errors on keys the form does not show (an unknown key, a whole-policy rule): shown above the form. */
export function otherErrors(violations: readonly Violation[], fields: readonly PolicyField[]): Violation[] {
  const keys = new Set(fields.map((f) => f.key));
  return violations.filter((v) => !keys.has(v.field));
}

/** Where a key applies on a library's database that Warden adopted, as the editor marks it. */
export interface ScopeMark {
  applies: boolean;
  label: 'Applies here' | 'Warden sign-ins only';
  /** How it is applied there, or why not: shown under the key's help. */
  note: string;
}

/**
 * The mark of a key whose scope the engine gave (an adopted library's database); null on Warden's own
 * schema, where every key applies. A key marked "Warden sign-ins only" still governs what signs in
 * through Warden itself, the console's own staff accounts among them: it stays editable.
 */
export function scopeMark(f: Pick<PolicyField, 'scope'>): ScopeMark | null {
  if (!f.scope) return null;
  return { applies: f.scope.applies, label: f.scope.applies ? 'Applies here' : 'Warden sign-ins only', note: f.scope.note };
}

/** A note's text cut at its backticks: the odd pieces are code (`warden enforce`), shown as such. */
export function codeSpans(text: string): { code: boolean; text: string }[] {
  return text
    .split('`')
    .map((t, i) => ({ code: i % 2 === 1, text: t }))
    .filter((p) => p.text !== '');
}

/** The sentence at the top of the editor on an adopted library's database. */
export function libraryScopeSentence(library: string): string {
  return (
    `On this ${library} database, only the keys marked 'Applies here' govern the application's own users ` +
    "and sessions; the others govern only what signs in through Warden itself, such as this console's own staff " +
    'accounts.'
  );
}

/** A diff line: `session.ttl: 7d → 12h`. */
export function changeText(c: PolicyChange): string {
  return `${c.key}: ${c.from} → ${c.to}`;
}

export interface SimulationLine {
  id: string;
  text: string;
  /** The figure calls for attention (sessions end, accounts stay locked). */
  emphasis: boolean;
}

/** The simulation as sentences for the review step; `shorten` says whether the option is ticked. */
export function simulationLines(sim: Simulation, shorten: boolean): SimulationLine[] {
  const s = sim.sessions;
  const l = sim.lockout;
  const ended = shorten ? s.ended_if_shortened : s.ended;
  const lines: SimulationLine[] = [
    {
      id: 'sessions-ended',
      text:
        ended === 0
          ? `No live session ends now (of ${plural(s.live, 'live session')}).`
          : `${plural(ended, 'live session')} of ${s.live.toLocaleString('en-US')} end${ended === 1 ? 's' : ''} now` +
            (s.ended_privileged > 0 ? `, ${plural(s.ended_privileged, 'privileged one')} among them.` : '.'),
      emphasis: ended > 0,
    },
  ];
  if (shorten) {
    lines.push({
      id: 'sessions-shortened',
      text:
        s.shortened === 0
          ? 'No live session lasts longer than the new caps: nothing to shorten.'
          : `${plural(s.shortened, 'live session')} will be shortened to the new caps (never lengthened).`,
      emphasis: false,
    });
  } else if (s.shortened > 0) {
    lines.push({
      id: 'sessions-shortened',
      text: `${plural(s.shortened, 'live session')} would keep an expiry beyond the new caps until refreshed; tick “Shorten existing sessions” to cut them now.`,
      emphasis: false,
    });
  }
  const lockText =
    `${plural(l.locked, 'account')} locked now; ${l.locked_under_new.toLocaleString('en-US')} under the new lockout rules` +
    (l.newly_unlocked > 0 || l.newly_locked > 0
      ? ` (${l.newly_unlocked.toLocaleString('en-US')} would be open, ${l.newly_locked.toLocaleString('en-US')} more locked).`
      : '.');
  lines.push({ id: 'lockout', text: lockText, emphasis: l.newly_locked > 0 });
  return lines;
}

/**
 * Numbers the preview requests so that only the answer to the latest draft is shown: a slow answer to an
 * older draft arriving late is dropped.
 */
export class Latest {
  #seq = 0;
  next(): number {
    this.#seq += 1;
    return this.#seq;
  }
  isCurrent(n: number): boolean {
    return n === this.#seq;
  }
}
