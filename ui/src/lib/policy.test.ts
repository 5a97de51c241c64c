import { describe, expect, it } from 'vitest';
import type { PolicyField, Simulation } from './backend/generated';
import {
  Latest,
  changeText,
  changedEntries,
  codeSpans,
  draftOf,
  errorsByField,
  libraryScopeSentence,
  otherErrors,
  scopeMark,
  sections,
  simulationLines,
} from './policy';

function field(key: string, value: string, over: Partial<PolicyField> = {}): PolicyField {
  const section = key.split('.')[0];
  const group =
    section === 'session'
      ? 'sessions'
      : section === 'privileged'
        ? 'privileged_sessions'
        : section === 'password'
          ? 'passwords'
          : section === 'lockout'
            ? 'lockout'
            : 'email_verification';
  return { key, value, group, kind: 'duration', choices: [], label: key, help: 'help', scope: null, ...over };
}

const FIELDS: PolicyField[] = [
  field('session.ttl', '7d'),
  field('session.on_limit', 'evict_oldest', { kind: 'choice', choices: ['evict_oldest', 'reject'] }),
  field('privileged.ttl', '8h'),
  field('lockout.threshold', '5', { kind: 'integer' }),
  field('password.reject_common', 'true', { kind: 'boolean' }),
];

function sim(over: Partial<Simulation['sessions']> = {}, lock: Partial<Simulation['lockout']> = {}): Simulation {
  return {
    sessions: { live: 120, ended: 3, ended_privileged: 1, shortened: 7, ended_if_shortened: 5, ...over },
    lockout: { locked: 3, locked_under_new: 3, newly_unlocked: 1, newly_locked: 1, ...lock },
  };
}

describe('policy sections', () => {
  it('puts fields under their section in the fixed order and leaves out empty sections', () => {
    const s = sections(FIELDS);
    expect(s.map((x) => x.id)).toEqual(['sessions', 'privileged_sessions', 'lockout', 'passwords']);
    expect(s[0]?.title).toBe('Sessions');
    expect(s[0]?.fields.map((f) => f.key)).toEqual(['session.ttl', 'session.on_limit']);
  });
});

describe('changedEntries', () => {
  it('lists only the keys whose typed text differs, trimmed', () => {
    const d = draftOf(FIELDS);
    expect(changedEntries(FIELDS, d)).toEqual([]);
    d['session.ttl'] = ' 12h ';
    d['lockout.threshold'] = '5 ';
    d['password.reject_common'] = 'false';
    expect(changedEntries(FIELDS, d)).toEqual([
      { key: 'session.ttl', value: '12h' },
      { key: 'password.reject_common', value: 'false' },
    ]);
  });
  it('sends an emptied field, so the engine names the rule it breaks', () => {
    const d = { ...draftOf(FIELDS), 'session.ttl': '' };
    expect(changedEntries(FIELDS, d)).toEqual([{ key: 'session.ttl', value: '' }]);
  });
});

describe('errors at their fields', () => {
  const violations = [
    { field: 'session.ttl', rule: 'must be longer than 0s' },
    { field: 'session.ttl', rule: 'must be at most session.max_lifetime (30d)' },
    { field: 'lockout.threshold', rule: 'must be between 1 and 100' },
    { field: 'policy', rule: 'must be a JSON object' },
  ];
  it('groups rules by field in order', () => {
    const m = errorsByField(violations);
    expect(m.get('session.ttl')).toEqual(['must be longer than 0s', 'must be at most session.max_lifetime (30d)']);
    expect(m.get('lockout.threshold')).toEqual(['must be between 1 and 100']);
    expect(m.has('session.on_limit')).toBe(false);
  });
  it('keeps errors on keys the form does not show for the top of the form', () => {
    expect(otherErrors(violations, FIELDS)).toEqual([{ field: 'policy', rule: 'must be a JSON object' }]);
  });
});

describe('simulationLines', () => {
  it('counts what ends without shortening and hints at the option', () => {
    const l = simulationLines(sim(), false);
    expect(l.map((x) => x.id)).toEqual(['sessions-ended', 'sessions-shortened', 'lockout']);
    expect(l[0]?.text).toBe('3 live sessions of 120 end now, 1 privileged one among them.');
    expect(l[0]?.emphasis).toBe(true);
    expect(l[1]?.text).toContain('7 live sessions would keep an expiry beyond the new caps');
    expect(l[2]?.text).toBe(
      '3 accounts locked now; 3 under the new lockout rules (1 would be open, 1 more locked).',
    );
  });
  it('counts what ends with shortening', () => {
    const l = simulationLines(sim(), true);
    expect(l[0]?.text).toBe('5 live sessions of 120 end now, 1 privileged one among them.');
    expect(l[1]?.text).toBe('7 live sessions will be shortened to the new caps (never lengthened).');
  });
  it('says plainly when nothing ends or changes', () => {
    const quiet = sim(
      { live: 1, ended: 0, ended_privileged: 0, shortened: 0, ended_if_shortened: 0 },
      { locked: 0, locked_under_new: 0, newly_unlocked: 0, newly_locked: 0 },
    );
    const l = simulationLines(quiet, false);
    expect(l.map((x) => x.text)).toEqual([
      'No live session ends now (of 1 live session).',
      '0 accounts locked now; 0 under the new lockout rules.',
    ]);
    expect(l.every((x) => !x.emphasis)).toBe(true);
    expect(simulationLines(quiet, true)[1]?.text).toBe(
      'No live session lasts longer than the new caps: nothing to shorten.',
    );
  });
});

describe('Latest', () => {
  it('only the newest request is current', () => {
    const l = new Latest();
    const a = l.next();
    expect(l.isCurrent(a)).toBe(true);
    const b = l.next();
    expect(l.isCurrent(a)).toBe(false);
    expect(l.isCurrent(b)).toBe(true);
  });
});

describe('changeText', () => {
  it('reads key, old and new value', () => {
    expect(changeText({ key: 'session.ttl', from: '7d', to: '12h' })).toBe('session.ttl: 7d → 12h');
  });
});

describe('where a key applies on an adopted library database', () => {
  it('marks nothing on Warden’s own schema, where every key applies', () => {
    expect(scopeMark(field('session.ttl', '7d'))).toBeNull();
  });

  it('marks a key that governs the application, and one that governs only the console, each with its note', () => {
    const applies = field('session.ttl', '7d', {
      scope: { applies: true, note: 'Applied in place by `warden enforce`: sessions are cut to it.' },
    });
    const console = field('lockout.threshold', '5', {
      scope: { applies: false, note: "Only this console's own staff sign-ins: the application's sign-ins do not go through Warden" },
    });
    expect(scopeMark(applies)).toEqual({
      applies: true,
      label: 'Applies here',
      note: 'Applied in place by `warden enforce`: sessions are cut to it.',
    });
    expect(scopeMark(console)).toMatchObject({ applies: false, label: 'Warden sign-ins only' });
    expect(scopeMark(console)?.note).toMatch(/^Only this console's own staff sign-ins/);
  });

  it('shows the code a note names as code', () => {
    expect(codeSpans('Applied in place by `warden enforce`: sessions past it are cut.')).toEqual([
      { code: false, text: 'Applied in place by ' },
      { code: true, text: 'warden enforce' },
      { code: false, text: ': sessions past it are cut.' },
    ]);
    expect(codeSpans('No code here')).toEqual([{ code: false, text: 'No code here' }]);
  });

  it('says at the top which keys govern the application', () => {
    const text = libraryScopeSentence('Better Auth');
    expect(text).toBe(
      "On this Better Auth database, only the keys marked 'Applies here' govern the application's own users and sessions; the others govern only what signs in through Warden itself, such as this console's own staff accounts.",
    );
  });
});
