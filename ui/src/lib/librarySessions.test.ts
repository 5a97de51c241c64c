import { describe, expect, it } from 'vitest';
import {
  EMPTY_SESSION_FORM,
  NO_SESSION_FILTER,
  buildSessionFilter,
  bulkEndedSentence,
  dayLabel,
  dayToMs,
  describeSessionFilter,
  emptySentence,
  endMatchingConsequence,
  fieldErrorText,
  formFieldFor,
  formForIp,
  hasSessionFilter,
  ipError,
  isIpAddress,
  isOver,
  msToDay,
  ruleOf,
  schemaGaps,
  type LibrarySessionForm,
  type SessionSchema,
} from './librarySessions';

/** Better Auth with the admin plugin: every filter can be answered. */
const FULL: SessionSchema = { name: 'Better Auth', session_place: true, session_start: true, admin_role: true };
/** Auth.js: sessions record neither place nor start, users have no role. */
const BARE: SessionSchema = { name: 'Auth.js', session_place: false, session_start: false, admin_role: false };

const form = (over: Partial<LibrarySessionForm>): LibrarySessionForm => ({ ...EMPTY_SESSION_FORM, ...over });
const DEC_1 = new Date(2026, 11, 1).getTime();
const DEC_8 = new Date(2026, 11, 8).getTime();

describe('addresses', () => {
  it('takes one IPv4 or IPv6 address', () => {
    for (const ok of ['203.0.113.7', '0.0.0.0', '2001:db8::1', '::1', '::', 'fe80::', '::ffff:192.0.2.1', '1:2:3:4:5:6:7:8'])
      expect(isIpAddress(ok), ok).toBe(true);
  });
  it('refuses what is not one address', () => {
    for (const bad of ['256.1.1.1', '10.0.0', '10.0.0.1.2', 'example.test', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::1', '1.2.3.4::1', ':1::'])
      expect(isIpAddress(bad), bad).toBe(false);
  });
  it('says why an address cannot be sent', () => {
    expect(ipError('10.0.0.0/8')).toMatch(/^one address, not a range/);
    expect(ipError('10.0.0.1, 10.0.0.2')).toBe('one address at a time');
    expect(ipError('nope')).toContain('“nope” is not an address');
    expect(ipError(' 203.0.113.7 ')).toBeNull();
  });
});

describe('the filter sent', () => {
  it('is empty for an empty form, and then filters nothing', () => {
    const built = buildSessionFilter(EMPTY_SESSION_FORM, FULL);
    expect(built).toEqual({ ok: true, filter: NO_SESSION_FILTER });
    expect(hasSessionFilter(NO_SESSION_FILTER)).toBe(false);
  });

  it('carries each field trimmed, dates as local midnights ("before" excludes its day)', () => {
    const built = buildSessionFilter(
      form({ user: ' Ana@Example.test ', ip: ' 203.0.113.7 ', from: '2026-12-01', before: '2026-12-08', adminsOnly: true }),
      FULL,
    );
    expect(built).toEqual({
      ok: true,
      filter: { user: 'Ana@Example.test', ip: '203.0.113.7', created_from: DEC_1, created_to: DEC_8, admins_only: true },
    });
    if (built.ok) expect(hasSessionFilter(built.filter)).toBe(true);
  });

  it("for an address opened from the overview, is that address's and nothing else", () => {
    expect(buildSessionFilter(formForIp(' 2001:db8::1 '), FULL)).toEqual({
      ok: true,
      filter: { ...NO_SESSION_FILTER, ip: '2001:db8::1' },
    });
  });

  it('never sends a filter the schema cannot answer, whatever the form still holds', () => {
    const built = buildSessionFilter(form({ user: 'u1', ip: 'not checked', from: '2026-12-08', before: '2026-12-01', adminsOnly: true }), BARE);
    expect(built).toEqual({ ok: true, filter: { ...NO_SESSION_FILTER, user: 'u1' } });
  });

  it('names each wrong field, and sends nothing', () => {
    const built = buildSessionFilter(form({ ip: '10.0.0.0/8', from: '2026-12-08', before: '2026-12-08' }), FULL);
    expect(built.ok).toBe(false);
    if (built.ok) return;
    expect(built.errors.ip).toMatch(/not a range/);
    expect(built.errors.from).toMatch(/^must be an earlier day than “Began before”/);
    expect(built.errors.user).toBeUndefined();
  });

  it('takes a "from" or a "before" alone', () => {
    expect(buildSessionFilter(form({ before: '2026-12-08' }), FULL)).toEqual({
      ok: true,
      filter: { ...NO_SESSION_FILTER, created_to: DEC_8 },
    });
    expect(buildSessionFilter(form({ from: 'garbage' }), FULL)).toEqual({ ok: false, errors: { from: 'not a date' } });
  });

  it('turns date inputs into instants and back', () => {
    expect(dayToMs('2026-12-01')).toBe(DEC_1);
    expect(dayToMs('')).toBeNull();
    expect(msToDay(DEC_1)).toBe('2026-12-01');
    expect(msToDay(DEC_1 + 13 * 3_600_000)).toBe('2026-12-01');
    expect(msToDay(null)).toBe('');
  });

  it('places the engine’s field errors in the filter bar', () => {
    expect(formFieldFor('ip')).toBe('ip');
    expect(formFieldFor('filter.created_from')).toBe('from');
    expect(formFieldFor('createdTo')).toBe('before');
    expect(formFieldFor('filter.user')).toBe('user');
    expect(formFieldFor('reason')).toBeNull();
  });

  it('shows each error once, after its field’s label, whoever found it', () => {
    // The engine's message starts with its own name of the field: the bar names it in the form's words.
    expect(ruleOf('`ip`: must be one IP address, such as 203.0.113.7')).toBe('must be one IP address, such as 203.0.113.7');
    expect(ruleOf('Better Auth keeps addresses as text')).toBe('Better Auth keeps addresses as text');
    expect(fieldErrorText('ip', ruleOf('`ip`: must be one IP address, such as 203.0.113.7'))).toBe(
      'IP address: must be one IP address, such as 203.0.113.7.',
    );
    expect(fieldErrorText('from', 'not a date')).toBe('Began from: not a date.');
    expect(fieldErrorText('user', 'no such user.')).toBe('User: no such user.');
  });
});

describe('the filter in words', () => {
  const f = { ...NO_SESSION_FILTER, ip: '203.0.113.7', created_from: DEC_1 };
  it('says which sessions, for the dialog and the empty list', () => {
    expect(dayLabel(DEC_1)).toBe('1 Dec 2026');
    expect(describeSessionFilter(f, 'live')).toBe('the live sessions from 203.0.113.7 begun on or after 1 Dec 2026');
    expect(describeSessionFilter(NO_SESSION_FILTER, 'all')).toBe('the sessions');
    expect(describeSessionFilter({ ...NO_SESSION_FILTER, admins_only: true, created_to: DEC_8 }, 'over')).toBe(
      "the expired sessions of the application's admins begun before 8 Dec 2026",
    );
    expect(describeSessionFilter({ ...NO_SESSION_FILTER, user: 'a@example.test', created_from: DEC_1, created_to: DEC_8 }, 'live')).toBe(
      'the live sessions of a@example.test begun from 1 Dec 2026 and before 8 Dec 2026',
    );
    expect(emptySentence(f, 'live', 'Better Auth')).toBe('No live session from 203.0.113.7 begun on or after 1 Dec 2026.');
    expect(emptySentence(NO_SESSION_FILTER, 'over', 'Auth.js')).toBe("No expired session in Auth.js's table.");
  });

  it('says how many sessions and users ending them takes, and that nothing ends when none matches', () => {
    const text = endMatchingConsequence(1204, 310, f, 'Better Auth');
    expect(text).toMatch(/^Ends 1,204 live sessions of 310 users \(the live sessions from 203\.0\.113\.7 /);
    expect(text).toContain("Better Auth's table in batches");
    expect(text).toContain('Those users are signed out');
    expect(endMatchingConsequence(2, 1, f, 'Better Auth')).toContain('That user is signed out');
    expect(endMatchingConsequence(0, 0, f, 'Better Auth')).toMatch(/^Nothing to end: no live sessions from 203\.0\.113\.7/);
  });

  it('reports what a bulk end did', () => {
    expect(bulkEndedSentence({ matched: 42, ended: 42, batches: 1, cancelled: false })).toBe('Ended 42 sessions in 1 batch.');
    expect(bulkEndedSentence({ matched: 42, ended: 40, batches: 2, cancelled: false })).toBe(
      'Ended 40 of 42 matching sessions in 2 batches; 2 had already ended.',
    );
    expect(bulkEndedSentence({ matched: 0, ended: 0, batches: 0, cancelled: false })).toMatch(/nothing was ended/);
    expect(bulkEndedSentence({ matched: 900, ended: 500, batches: 1, cancelled: true })).toMatch(/^Stopped after ending 500 of 900/);
  });
});

describe('rows and the schema', () => {
  it('marks a session whose expiry has passed as over (an unknown expiry is not)', () => {
    expect(isOver({ expires_at: 1000 }, 1000)).toBe(true);
    expect(isOver({ expires_at: 1001 }, 1000)).toBe(false);
    expect(isOver({ expires_at: null }, 1000)).toBe(false);
  });

  it('says what the schema cannot show, and nothing when it shows all', () => {
    expect(schemaGaps(FULL)).toEqual([]);
    const gaps = schemaGaps(BARE);
    expect(gaps).toHaveLength(3);
    expect(gaps[0]).toContain('Auth.js sessions record no creation time');
    expect(gaps[1]).toMatch(/^No “IP address” or “User agent” column/);
    expect(gaps[2]).toBe('No “Admins only” filter: Auth.js users have no role.');
    expect(schemaGaps({ ...FULL, admin_role: false })).toEqual([
      'No “Admins only” filter: users have no role without Better Auth’s admin plugin.',
    ]);
  });
});
