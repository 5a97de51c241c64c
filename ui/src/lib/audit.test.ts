import { describe, expect, it } from 'vitest';
import type { AuditEvent } from './backend/generated';
import {
  NO_AUDIT_FILTERS,
  actionTone,
  describeAuditFilters,
  eventSummary,
  eventFields,
  targetUser,
  exportSentence,
  hasAuditFilters,
  localToRfc3339,
  nextCursor,
  prettyMetadata,
  toAuditQuery,
  toFilterInput,
  toRows,
  verificationSentence,
} from './audit';
import { applyItems, beginLoad, initialPager } from './usersPager';

function event(seq: number, over: Partial<AuditEvent> = {}): AuditEvent {
  return {
    seq,
    at: Date.UTC(2026, 11, 1, 10, 0, 0),
    actor_id: null,
    actor_kind: 'user',
    actor_label: 'root@example.com',
    action: 'session.revoked',
    target_user_id: null,
    target_session_id: null,
    status: 'success',
    reason: 'leaked',
    ip: null,
    metadata: '{"a":1,"b":{"c":"d"}}',
    prev_hash: 'p'.repeat(64),
    hash: 'h'.repeat(64),
    ...over,
  };
}

describe('toFilterInput', () => {
  it('sends nulls for open filters and trims text', () => {
    expect(toFilterInput({ ...NO_AUDIT_FILTERS, actor: '  ', reason: ' phone ' })).toEqual({
      actor: null,
      user: null,
      action: null,
      status: null,
      ip: null,
      from: null,
      to: null,
      reason: 'phone',
    });
  });

  it('keeps a group prefix and the status', () => {
    const f = toFilterInput({ ...NO_AUDIT_FILTERS, action: 'session.', status: 'failure' });
    expect(f.action).toBe('session.');
    expect(f.status).toBe('failure');
  });

  it('turns local date-times into UTC RFC 3339 and leaves anything else for the engine to name', () => {
    const local = '2026-12-01T10:30';
    expect(localToRfc3339(local)).toBe(new Date(local).toISOString());
    expect(localToRfc3339('yesterday')).toBe('yesterday');
    expect(localToRfc3339(' ')).toBeNull();
  });
});

describe('toAuditQuery', () => {
  it('sends the cursor as the seq to read below', () => {
    expect(toAuditQuery(NO_AUDIT_FILTERS, null, 50).before).toBeNull();
    expect(toAuditQuery(NO_AUDIT_FILTERS, '1234', 50)).toMatchObject({ before: 1234, limit: 50 });
  });
});

describe('describing filters', () => {
  it('knows when nothing narrows the list', () => {
    expect(hasAuditFilters(NO_AUDIT_FILTERS)).toBe(false);
    expect(hasAuditFilters({ ...NO_AUDIT_FILTERS, ip: '10.0.0.1' })).toBe(true);
  });

  it('names groups by what their actions are about and exact actions as typed', () => {
    expect(describeAuditFilters({ ...NO_AUDIT_FILTERS, action: 'user.', status: 'failure' })).toBe(
      'user actions, failures',
    );
    expect(`Events with ${describeAuditFilters({ ...NO_AUDIT_FILTERS, action: 'session.' })}`).toBe(
      'Events with session actions',
    );
    expect(describeAuditFilters({ ...NO_AUDIT_FILTERS, action: 'auth.' })).toBe('sign-in actions');
    expect(describeAuditFilters({ ...NO_AUDIT_FILTERS, action: 'policy.updated', actor: 'root' })).toBe(
      'actor “root”, action policy.updated',
    );
  });
});

describe('rows for the pager', () => {
  it('keys events by seq and pages by the next seq', () => {
    const rows = toRows([event(9), event(8)]);
    expect(rows.map((r) => r.id)).toEqual(['9', '8']);
    let s = initialPager<(typeof rows)[number]>();
    const { state, generation } = beginLoad(s);
    s = applyItems(state, generation, rows, nextCursor(8));
    expect(s.cursor).toBe('8');
    expect(s.done).toBe(false);
    s = applyItems(s, generation, toRows([event(7)]), nextCursor(null));
    expect(s.items.map((r) => r.seq)).toEqual([9, 8, 7]);
    expect(s.done).toBe(true);
  });
});

describe('the event drawer', () => {
  it('pretty-prints metadata and shows other text as is', () => {
    expect(prettyMetadata('{"a":1,"b":{"c":"d"}}')).toBe('{\n  "a": 1,\n  "b": {\n    "c": "d"\n  }\n}');
    expect(prettyMetadata('not json')).toBe('not json');
  });

  it('lists every field, with dashes for the empty ones', () => {
    const fields = eventFields(event(3, { ip: '2001:db8::1' }));
    const byLabel = Object.fromEntries(fields.map((f) => [f.label, f.value]));
    expect(byLabel['Seq']).toBe('3');
    expect(byLabel['Time (UTC)']).toBe('2026-12-01T10:00:00.000Z');
    expect(byLabel['IP']).toBe('2001:db8::1');
    expect(byLabel['Target user']).toBe('—');
    expect(byLabel['Hash']).toBe('h'.repeat(64));
    expect(fields).toHaveLength(13);
  });

  it('names the target user by email, with the id kept for the tooltip', () => {
    const id = '01a24e9a-0000-7000-8000-000000000001';
    const e = event(4, { target_user_id: id });
    const target = eventFields(e, { [id]: 'ana@example.com' }).find((f) => f.label === 'Target user');
    expect(target).toEqual({ label: 'Target user', value: 'ana@example.com', title: id });
    expect(targetUser(e, { [id]: 'ana@example.com' })).toBe('ana@example.com');
    // A user deleted since: the id is all there is.
    expect(targetUser(e, {})).toBe(id);
    expect(targetUser(event(5), {})).toBe('—');
  });

  it('tones actions by group', () => {
    expect(actionTone('session.bulk_revoked')).toBe('danger');
    expect(actionTone('policy.updated')).toBe('warn');
    expect(actionTone('auth.signed_in')).toBe('ok');
    expect(actionTone('audit.verified')).toBe('');
  });
});

describe('result sentences', () => {
  it('says how many rows went where', () => {
    expect(exportSentence({ rows: 1234, format: 'csv', file: '/tmp/a.csv' })).toBe('1,234 events written to /tmp/a.csv');
  });

  it('says when it verified, or names the first broken link', () => {
    const at = Date.UTC(2026, 11, 7, 10, 0, 0);
    const v = { events_verified: 1200, head_seq: 1200, broken_at: null, detail: null };
    expect(verificationSentence(v, at, at + 5_000)).toEqual({
      ok: true,
      text: 'Verified just now: 1,200 events up to #1,200, the chain is intact.',
    });
    // The result stays on screen: it says how old it is, not a stale "verified".
    expect(verificationSentence(v, at, at + 3 * 60_000).text).toMatch(/^Verified 3 min ago: /);
    const broken = verificationSentence(
      {
        events_verified: 41,
        head_seq: 90,
        broken_at: 42,
        detail: 'its content does not match its hash (the event was altered)',
      },
      at,
      at,
    );
    expect(broken.ok).toBe(false);
    expect(broken.text).toBe(
      'Checked just now: broken link at event #42: its content does not match its hash (the event was altered). 41 events before it verified.',
    );
  });
});

describe('eventSummary', () => {
  it('reads a sign-out as a sign-out, not as a revocation', () => {
    expect(eventSummary(event(1, { reason: null, metadata: '{"by":"owner","current":true}' }))).toBe('Signed out');
    expect(eventSummary(event(1, { reason: null, metadata: '{"by":"owner","current":false}' }))).toBe(
      'Ended one of their own sessions',
    );
  });
  it('says a failed revocation failed', () => {
    expect(
      eventSummary(event(1, { reason: null, metadata: '{"by":"owner","error":"session_not_found"}' })),
    ).toBe('Tried to end a session that is unknown, not theirs or already ended');
  });
  it('says which rule ended a session and when it really ended', () => {
    const at = Date.UTC(2026, 11, 7, 9, 30);
    const summary = eventSummary(
      event(1, { action: 'session.ended', metadata: JSON.stringify({ reason: 'idle', ended_at: at }) }),
    );
    expect(summary).toMatch(/^Ended by the idle timeout at /);
    expect(eventSummary(event(1, { action: 'session.ended', metadata: '{"reason":"absolute"}' }))).toBe(
      'Ended at its maximum lifetime',
    );
  });
  it('leaves other events to their action', () => {
    expect(eventSummary(event(1, { metadata: '{"by":"admin"}' }))).toBeNull();
    expect(eventSummary(event(1, { action: 'user.unlocked', metadata: '{"by":"owner","current":true}' }))).toBeNull();
    expect(eventSummary(event(1, { metadata: 'not json' }))).toBeNull();
  });
});
