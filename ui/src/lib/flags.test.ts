import { describe, expect, it } from 'vitest';
import type { FlagView } from './backend';
import {
  NO_FLAG_FILTERS,
  afterResolve,
  describeFlags,
  hasFlagFilters,
  resolutionText,
  ruleExplains,
  ruleLabel,
  severityTone,
  statusTone,
  toFlagQuery,
  flagSession,
} from './flags';

function flag(p: Partial<FlagView> = {}): FlagView {
  return {
    id: 'f1',
    user_id: 'u1',
    user_email: 'ana@example.com',
    session_id: 's1',
    rule: 'new_country',
    severity: 'medium',
    detail: 'first sign-in from NZ',
    status: 'open',
    created_at: 1_767_225_600_000,
    resolved_at: null,
    resolved_by: null,
    session_ip: '203.0.113.7',
    session_device: 'mobile',
    session_browser: 'Safari',
    session_browser_version: '18.1',
    session_os: 'iOS 18.1',
    session_city: 'Auckland',
    session_country: 'NZ',
    ...p,
  };
}

describe('flag labels', () => {
  it('names every rule the engine raises and explains it', () => {
    for (const [rule, label] of [
      ['new_country', 'New country'],
      ['impossible_travel', 'Impossible travel'],
      ['rapid_sign_ins', 'Rapid sign-ins'],
      ['success_after_failures', 'Success after failures'],
    ]) {
      expect(ruleLabel(rule!)).toBe(label);
      expect(ruleExplains(rule!)).not.toBe('');
    }
  });

  it('shows an unknown rule as stored, with no explanation', () => {
    expect(ruleLabel('tor_exit')).toBe('tor_exit');
    expect(ruleExplains('tor_exit')).toBe('');
  });

  it('tones severities and statuses', () => {
    expect([severityTone('high'), severityTone('medium'), severityTone('low')]).toEqual(['danger', 'warn', 'info']);
    expect([statusTone('open'), statusTone('actioned'), statusTone('dismissed')]).toEqual(['warn', 'ok', 'info']);
  });
});

describe('toFlagQuery', () => {
  it('asks for open flags of everyone by default', () => {
    expect(toFlagQuery(NO_FLAG_FILTERS, null)).toEqual({ status: 'open', user: null, limit: 100, after: null });
  });

  it('trims the user and passes the cursor', () => {
    expect(toFlagQuery({ status: 'all', user: '  ana@example.com ' }, '17:abc', 20)).toEqual({
      status: 'all',
      user: 'ana@example.com',
      limit: 20,
      after: '17:abc',
    });
  });

  it('counts only a status other than open, or a user, as a filter', () => {
    expect(hasFlagFilters(NO_FLAG_FILTERS)).toBe(false);
    expect(hasFlagFilters({ status: 'open', user: '  ' })).toBe(false);
    expect(hasFlagFilters({ status: 'all', user: '' })).toBe(true);
    expect(hasFlagFilters({ status: 'open', user: 'ana' })).toBe(true);
  });

  it('describes the list', () => {
    expect(describeFlags(NO_FLAG_FILTERS)).toBe('Open flags, newest first');
    expect(describeFlags({ status: 'all', user: 'ana@example.com' })).toBe('Every flag of ana@example.com, newest first');
  });
});

describe('closing a flag', () => {
  it('says what dismissing and actioning mean', () => {
    const d = resolutionText('dismissed', flag());
    expect(d.consequence).toContain('the new country flag on ana@example.com');
    expect(d.consequence).toContain('left as they are');
    expect(d.confirm).toBe('Dismiss');
    expect(resolutionText('actioned', flag()).confirm).toBe('Mark actioned');
  });

  it('drops the closed flag from the open queue and updates it elsewhere', () => {
    const items = [flag(), flag({ id: 'f2' })];
    const closed = flag({ status: 'dismissed', resolved_at: 1, resolved_by: 'admin@warden.demo' });
    expect(afterResolve(items, closed, 'open').map((f) => f.id)).toEqual(['f2']);
    const all = afterResolve(items, closed, 'all');
    expect(all.map((f) => f.status)).toEqual(['dismissed', 'open']);
  });
});

describe('flagSession', () => {
  it('says the flagged session\'s device and where it came from', () => {
    expect(flagSession(flag())).toEqual({ device: 'Mobile · Safari 18.1 · iOS 18.1', place: '203.0.113.7 · Auckland, NZ' });
  });
  it('says what is missing, and nothing for a flag without a session', () => {
    expect(
      flagSession(
        flag({ session_ip: null, session_city: null, session_country: null, session_browser: null, session_os: null }),
      ),
    ).toEqual({ device: 'Mobile', place: 'No address recorded' });
    expect(flagSession(flag({ session_id: null }))).toBeNull();
  });
});
