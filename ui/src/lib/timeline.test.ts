import { describe, expect, it } from 'vitest';
import type { TimelineMark, TimelineSession } from './backend/generated';
import {
  barExtent,
  groupFace,
  groupLines,
  groupMarks,
  legend,
  markLines,
  nearest,
  outcomeLabel,
  packLanes,
  parseLocal,
  presetRange,
  sessionLines,
  spanLabel,
  splitMarks,
  stepCursor,
  timeScale,
  timeTicks,
  toLocalInput,
} from './timeline';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 2, 4, 0, 0, 0); // 2026-03-04T00:00Z (the tests run in UTC)

function bar(p: Partial<TimelineSession> = {}): TimelineSession {
  return {
    id: '0a1b2c3d-0000-4000-8000-000000000001',
    created_at: T0,
    ended_at: T0 + HOUR,
    outcome: 'user_logout',
    revoke_reason: 'user_logout',
    revoked_by: 'ann@example.com',
    last_seen_at: T0 + HOUR,
    expires_at: T0 + 7 * DAY,
    device: 'desktop',
    browser: 'Firefox',
    os: 'Linux',
    ip: '203.0.113.9',
    country: 'DE',
    city: 'Berlin',
    auth_method: 'password',
    client: 'web',
    privileged: false,
    is_current: false,
    ...p,
  };
}

function mark(p: Partial<TimelineMark> = {}): TimelineMark {
  return { at: T0, kind: 'refreshed', session: 0, ip: null, detail: null, until: null, ...p };
}

describe('ranges', () => {
  it('end the presets now', () => {
    expect(presetRange('24h', T0)).toEqual({ from: T0 - DAY, to: T0 });
    expect(presetRange('90d', T0)).toEqual({ from: T0 - 90 * DAY, to: T0 });
  });
  it('read datetime-local values and write them back', () => {
    expect(parseLocal('2026-03-04T14:05')).toBe(T0 + 14 * HOUR + 5 * MIN);
    expect(parseLocal(' 2026-03-04T14:05:30 ')).toBe(T0 + 14 * HOUR + 5 * MIN + 30_000);
    expect(parseLocal('yesterday')).toBeNull();
    expect(parseLocal('')).toBeNull();
    expect(toLocalInput(T0 + 14 * HOUR + 5 * MIN)).toBe('2026-03-04T14:05');
  });
});

describe('timeScale', () => {
  it('maps the range onto the pixels and back', () => {
    const s = timeScale(T0, T0 + DAY, 100, 1100);
    expect(s.x(T0)).toBe(100);
    expect(s.x(T0 + DAY)).toBe(1100);
    expect(s.x(T0 + DAY / 2)).toBe(600);
    expect(s.t(600)).toBe(T0 + DAY / 2);
  });
  it('survives an empty range', () => {
    expect(Number.isFinite(timeScale(T0, T0, 0, 100).x(T0))).toBe(true);
  });
});

describe('timeTicks', () => {
  it('puts hour ticks on round hours and names midnight by its day', () => {
    const ticks = timeTicks(T0 - 2 * HOUR - 10 * MIN, T0 + 4 * HOUR, 2000);
    expect(ticks[0]!.at).toBe(T0 - 2 * HOUR);
    expect(ticks.map((t) => t.label)).toEqual(['22:00', '23:00', 'Mar 4', '01:00', '02:00', '03:00', '04:00']);
    expect(ticks.filter((t) => t.major).map((t) => t.at)).toEqual([T0]);
  });
  it('widens the step to fit the width', () => {
    const day = timeTicks(T0, T0 + DAY, 800); // at most 10 ticks
    expect(day.length).toBeLessThanOrEqual(10);
    expect(day[1]!.at - day[0]!.at).toBe(3 * HOUR);
    const quarter = timeTicks(T0 - 90 * DAY, T0, 1000);
    expect(quarter.length).toBeLessThanOrEqual(12);
    expect(quarter.every((t) => new Date(t.at).getUTCHours() === 0)).toBe(true);
    expect(quarter[0]!.label).toMatch(/^[A-Z][a-z]{2} \d{1,2}$/);
  });
  it('starts within the range', () => {
    expect(timeTicks(T0 + 30 * MIN, T0 + 12 * HOUR, 600)[0]!.at).toBeGreaterThanOrEqual(T0 + 30 * MIN);
    expect(timeTicks(T0 + HOUR, T0 + 20 * DAY, 600)[0]!.at).toBe(T0 + DAY);
    expect(timeTicks(T0, T0, 600)).toEqual([]);
  });
});

describe('packLanes', () => {
  const scale = timeScale(T0, T0 + 100 * MIN, 0, 100); // a pixel a minute
  const span = (a: number, b: number) => ({ start: T0 + a * MIN, end: T0 + b * MIN });

  it('puts overlapping bars in separate lanes and reuses a lane once it is free', () => {
    const { lane, lanes } = packLanes([span(0, 10), span(5, 20), span(12, 30), span(25, 40)], scale);
    expect(lane).toEqual([0, 1, 0, 1]);
    expect(lanes).toBe(2);
  });
  it('keeps a gap between bars of one lane', () => {
    expect(packLanes([span(0, 10), span(11, 20)], scale, 3, 2).lane).toEqual([0, 1]);
    expect(packLanes([span(0, 10), span(12, 20)], scale, 3, 2).lane).toEqual([0, 0]);
  });
  it('widens tiny bars so they can be seen, and packs them so they never overlap on screen', () => {
    const tiny = Array.from({ length: 10 }, (_, i) => ({ start: T0 + i * 1000, end: T0 + i * 1000 + 1 }));
    const { lane, lanes } = packLanes(tiny, scale, 3, 1);
    expect(lanes).toBe(10);
    expect(new Set(lane).size).toBe(10);
  });
  it('packs thousands of sessions quickly', () => {
    const big = timeScale(T0 - 90 * DAY, T0, 0, 1200);
    const spans = Array.from({ length: 5000 }, (_, i) => ({ start: T0 - 90 * DAY + i * 25 * MIN, end: T0 - 90 * DAY + i * 25 * MIN + 2 * DAY }));
    const t = performance.now();
    const { lane, lanes } = packLanes(spans, big);
    expect(performance.now() - t).toBeLessThan(200);
    expect(lane).toHaveLength(5000);
    // Never two overlapping bars in one lane.
    const last = new Map<number, number>();
    spans.forEach((s, i) => {
      const x0 = big.x(s.start);
      const prev = last.get(lane[i]!);
      if (prev !== undefined) expect(prev + 2).toBeLessThanOrEqual(x0 + 1e-9);
      last.set(lane[i]!, Math.max(big.x(s.end), x0 + 3));
    });
    expect(lanes).toBeLessThan(200);
  });
});

describe('barExtent', () => {
  it('clips a bar to the axis and keeps it visible', () => {
    const s = timeScale(T0, T0 + 100 * MIN, 0, 100);
    expect(barExtent({ start: T0 - 50 * MIN, end: T0 + 10 * MIN }, s)).toEqual({ x: 0, width: 10 });
    expect(barExtent({ start: T0 + 90 * MIN, end: T0 + 200 * MIN }, s)).toEqual({ x: 90, width: 10 });
    expect(barExtent({ start: T0 + 5 * MIN, end: T0 + 5 * MIN }, s, 3).width).toBe(3);
  });
});

describe('words', () => {
  it('names how a session ended', () => {
    expect(outcomeLabel(bar())).toBe('Signed out');
    expect(outcomeLabel(bar({ outcome: 'emergency' }))).toBe('Ended by the emergency sign-out');
    expect(outcomeLabel(bar({ outcome: 'other', revoke_reason: 'fraud_rule' }))).toBe('Ended (fraud_rule)');
  });
  it('counts the legend by colour, in a fixed order', () => {
    const l = legend([bar({ outcome: 'idle' }), bar({ outcome: 'live' }), bar({ outcome: 'expired' }), bar({ outcome: 'bulk' })]);
    expect(l).toEqual([
      { group: 'live', label: 'Live', count: 1 },
      { group: 'bulk', label: 'Bulk', count: 1 },
      { group: 'rule', label: 'Idle or expired', count: 2 },
    ]);
  });
  it('says spans as people do', () => {
    expect(spanLabel(20 * 1000)).toBe('1 min');
    expect(spanLabel(45 * MIN)).toBe('45 min');
    expect(spanLabel(19 * HOUR)).toBe('19 h');
    expect(spanLabel(3 * DAY + HOUR)).toBe('3 days');
  });
  it('tells a bar in lines: what, where, when, how it ended, what happened', () => {
    const s = bar({ outcome: 'admin', revoked_by: 'root@example.com', ended_at: T0 + 19 * HOUR });
    const lines = sessionLines(
      s,
      [mark(), mark({ at: T0 + HOUR }), mark({ kind: 'ip_changed', ip: '198.18.0.1', detail: 'from 203.0.113.9' })],
      T0 + DAY,
    );
    expect(lines).toEqual([
      'Desktop · Firefox · Linux',
      '203.0.113.9 · Berlin, DE',
      '2026-03-04 00:00 → 2026-03-04 19:00 (19 h)',
      'Ended by an administrator by root@example.com · Password',
      '2 refreshes · IP changed from 203.0.113.9 to 198.18.0.1',
    ]);
    const live = sessionLines(bar({ ended_at: null, outcome: 'live', is_current: true }), [], T0 + 2 * HOUR);
    expect(live[2]).toBe('2026-03-04 00:00 → now (2 h)');
    expect(live[3]).toBe('Live · this console · Password');
    expect(live).toHaveLength(4);
    const lateRevoke = sessionLines(bar({ outcome: 'idle', revoke_reason: 'admin', revoked_by: 'root@example.com' }), [], T0 + DAY);
    expect(lateRevoke[3]).toBe('Idle timeout · revoked later by root@example.com · Password');
    const foundIdle = sessionLines(bar({ outcome: 'idle', revoke_reason: 'idle', revoked_by: null }), [], T0 + DAY);
    expect(foundIdle[3]).toBe('Idle timeout · Password');
  });
  it('tells an account mark', () => {
    expect(markLines(mark({ kind: 'sign_in_failed', session: null, detail: 'bad_password', ip: '192.0.2.7' }))).toEqual([
      'Sign-in failed · 2026-03-04 00:00',
      'wrong password · 192.0.2.7',
    ]);
    expect(markLines(mark({ kind: 'locked', session: null, until: T0 + 15 * MIN }))[1]).toBe('until 2026-03-04 00:15');
    expect(markLines(mark({ kind: 'locked', session: null, detail: 'until an administrator unlocks it' }))[1]).toBe(
      'until an administrator unlocks it',
    );
  });
  it('splits marks between bars and the account', () => {
    const { bySession, account } = splitMarks({
      marks: [mark({ session: 1 }), mark({ kind: 'sign_in_failed', session: null }), mark({ session: 1 }), mark({ session: 0 })],
    });
    expect(bySession.get(1)).toHaveLength(2);
    expect(bySession.get(0)).toHaveLength(1);
    expect(account.map((m) => m.kind)).toEqual(['sign_in_failed']);
  });
});

describe('keyboard and pointer', () => {
  it('moves the cursor in time order and stops at the ends', () => {
    expect(stepCursor('ArrowRight', 0, 3)).toBe(1);
    expect(stepCursor('ArrowLeft', 0, 3)).toBe(0);
    expect(stepCursor('End', 0, 3)).toBe(2);
    expect(stepCursor('PageDown', 0, 3)).toBe(2);
    expect(stepCursor('Enter', 0, 3)).toBeNull();
    expect(stepCursor('ArrowRight', 0, 0)).toBeNull();
  });
  it('finds the nearest mark within reach', () => {
    expect(nearest([10, 50, 52], 50.8, 4)).toBe(1);
    expect(nearest([10, 50, 52], 51.2, 4)).toBe(2);
    expect(nearest([10, 50], 30, 4)).toBe(-1);
  });
});

describe('marks at the same instant', () => {
  it('are grouped so that each can be seen, and far ones stay apart', () => {
    expect(groupMarks([10, 10, 10, 30, 33, 40])).toEqual([[0, 1, 2], [3, 4], [5]]);
    expect(groupMarks([])).toEqual([]);
  });
  it('are drawn as the weightiest and all said in the tooltip', () => {
    const failed = mark({ kind: 'sign_in_failed', session: null, detail: 'bad_password', ip: '192.0.2.7' });
    const locked = mark({ kind: 'locked', session: null, until: null, detail: null });
    expect(groupFace([failed, locked, failed]).kind).toBe('locked');
    const lines = groupLines([failed, failed, locked]);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^3 events at /);
    // Alike marks are said once, with how many.
    expect(lines[1]).toBe(`${markLines(failed)[0]!.split(' · ')[0]} · wrong password · 192.0.2.7 (×2)`);
    expect(lines[2]).toMatch(/ · until an administrator unlocks it$/);
    expect(groupLines([failed])).toEqual(markLines(failed));
    const others = Array.from({ length: 5 }, (_, k) => mark({ kind: 'sign_in_failed', session: null, ip: `192.0.2.${k}` }));
    expect(groupLines([...others, failed], 4).at(-1)).toBe('and 2 more');
  });
});
