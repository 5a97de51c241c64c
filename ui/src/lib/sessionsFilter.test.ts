import { describe, expect, it } from 'vitest';
import type { BulkPlan, BulkRun, BulkSummary } from './backend/generated';
import {
  NO_SESSION_FILTERS,
  alreadyEndedSentence,
  bulkRequest,
  bulkStartLabel,
  confirmationMatches,
  confirmationPhrase,
  dayStart,
  describeSessionFilters,
  hasSessionFilters,
  interruptedSentence,
  planSentence,
  progressPercent,
  summarySentence,
  toFilter,
  toSessionQuery,
} from './sessionsFilter';

const plan = (p: Partial<BulkPlan> = {}): BulkPlan => ({
  sessions: 3,
  users: 2,
  already_ended: 0,
  own_session_kept: false,
  sample: [],
  needs_typed_confirmation: false,
  interrupted: [],
  ...p,
});

const summary = (s: Partial<BulkSummary> = {}): BulkSummary => ({
  bulk_id: '0190',
  matched: 10,
  terminated: 10,
  already_ended: 0,
  skipped: 0,
  failed: 0,
  batches: 1,
  cancelled: false,
  error: null,
  audit_seq: 7,
  interrupted: [],
  ...s,
});

describe('toFilter', () => {
  it('sends blank fields as null and keeps the status', () => {
    expect(toFilter(NO_SESSION_FILTERS)).toEqual({
      user: null,
      ip: null,
      country: null,
      device: null,
      browser: null,
      os: null,
      auth_method: null,
      client: null,
      created_from: null,
      created_to: null,
      idle_for: null,
      status: 'active',
      privileged_only: false,
    });
  });
  it('trims text and turns the day range into [local midnight, the midnight after the last day)', () => {
    const f = toFilter({ ...NO_SESSION_FILTERS, ip: ' 10.0.0.0/8 ', createdFrom: '2026-03-01', createdTo: '2026-03-01' });
    expect(f.ip).toBe('10.0.0.0/8');
    expect(f.created_from).toBe(new Date(2026, 2, 1).getTime());
    expect(f.created_to).toBe(new Date(2026, 2, 2).getTime());
  });
  it('ignores a malformed day rather than sending garbage', () => {
    expect(dayStart('01/03/2026')).toBeNull();
    expect(dayStart('')).toBeNull();
  });
  it('builds a page query with the sort and cursor', () => {
    const q = toSessionQuery({ ...NO_SESSION_FILTERS, sort: 'last_active' }, 'c1', 50);
    expect(q).toMatchObject({ sort: 'last_active', after: 'c1', limit: 50 });
  });
});

describe('describeSessionFilters', () => {
  it('names every set filter and nothing else', () => {
    expect(describeSessionFilters(NO_SESSION_FILTERS)).toBe('');
    expect(hasSessionFilters(NO_SESSION_FILTERS)).toBe(false);
    const text = describeSessionFilters({ ...NO_SESSION_FILTERS, country: 'de', device: 'mobile', idleFor: '2h' });
    expect(text).toBe('country DE, mobile, idle > 2h');
  });
});

describe('bulkRequest', () => {
  it('targets the ticked rows, everything matching, or everyone', () => {
    const f = { ...NO_SESSION_FILTERS, country: 'FR' };
    expect(bulkRequest(f, ['a', 'b'], false).target).toEqual({ sessions: ['a', 'b'] });
    expect(bulkRequest(f, 'all-matching', true)).toMatchObject({ target: { filter: { country: 'FR' } }, include_own: true });
    expect(bulkRequest(f, 'everyone', false).target).toBe('everyone');
  });
});

describe('typed confirmation', () => {
  it('asks nothing for a small action, the count for a large one, the phrase for an emergency', () => {
    expect(confirmationPhrase(plan(), false)).toBeNull();
    expect(confirmationPhrase(plan({ sessions: 500, needs_typed_confirmation: true }), false)).toBe('END 500 SESSIONS');
    expect(confirmationPhrase(plan(), true)).toBe('SIGN OUT EVERYONE');
  });
  it('matches ignoring case and outer spaces, and nothing else', () => {
    expect(confirmationMatches(null, '')).toBe(true);
    expect(confirmationMatches('SIGN OUT EVERYONE', ' sign out everyone ')).toBe(true);
    expect(confirmationMatches('SIGN OUT EVERYONE', 'SIGN OUT')).toBe(false);
  });
});

describe('sentences and progress', () => {
  it('says how many sessions of how many users', () => {
    expect(planSentence(plan({ sessions: 1234, users: 1 }))).toBe('1,234 active sessions of 1 user will be signed out.');
    expect(planSentence(plan({ sessions: 0 }))).toMatch(/nothing would be ended/);
  });
  it('summarises every outcome that happened', () => {
    expect(summarySentence(summary())).toBe('10 sessions ended.');
    expect(summarySentence(summary({ terminated: 4, already_ended: 1, skipped: 1, cancelled: true }))).toBe(
      'Cancelled: 4 sessions ended, 1 had already ended, 1 kept (your own).',
    );
    expect(summarySentence(summary({ failed: 6, error: 'disk full' }))).toMatch(/^Stopped: .*6 failed\.$/);
  });
  it('says what an interrupted run did and did not do', () => {
    const run: BulkRun = {
      id: '0191',
      started_at: 0,
      actor_label: 'root@example.com',
      reason: 'incident 9',
      target: 'filter',
      matched: 6,
      terminated: 2,
      batches: 2,
      updated_at: 0,
      finished_at: null,
      interrupted: false,
      summary_seq: null,
    };
    expect(interruptedSentence(run)).toBe(
      'An earlier bulk termination by root@example.com ("incident 9") stopped half-way: it ended 2 of 6 sessions and did not reach the other 4.',
    );
  });
  it('never overshoots 100 % and shows 100 % for an empty run', () => {
    expect(progressPercent(5, 10)).toBe(50);
    expect(progressPercent(12, 10)).toBe(100);
    expect(progressPercent(0, 0)).toBe(100);
  });
});

describe('the bulk dialog\'s counts', () => {
  it('ends "1 session", not "1 sessions"', () => {
    expect(bulkStartLabel(1)).toBe('End 1 session');
    expect(bulkStartLabel(1200)).toBe('End 1,200 sessions');
    expect(bulkStartLabel(0)).toBe('Nothing to end');
  });
  it('agrees the verb with the already-ended count', () => {
    expect(alreadyEndedSentence(1)).toBe('1 of the selected sessions has already ended.');
    expect(alreadyEndedSentence(3)).toBe('3 of the selected sessions have already ended.');
  });
});
