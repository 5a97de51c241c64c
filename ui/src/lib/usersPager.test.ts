import { describe, expect, it } from 'vitest';
import type { UsersPage } from './backend/generated';
import { userSummary } from './fixtures.test-util';
import {
  NO_FILTERS,
  applyError,
  applyPage,
  beginLoad,
  canLoadMore,
  clearError,
  describeFilters,
  hasFilters,
  initialPager,
  keyTarget,
  patchUser,
  resetPager,
  scrollToReveal,
  shouldLoadMore,
  toQuery,
  visibleRange,
} from './usersPager';

function page(from: number, n: number, next: string | null): UsersPage {
  return {
    users: Array.from({ length: n }, (_, i) => userSummary({ id: `u${from + i}`, email: `u${from + i}@x.test` })),
    next_cursor: next,
  };
}

describe('toQuery', () => {
  it('sends nulls for filters left open and trims the search', () => {
    expect(toQuery({ ...NO_FILTERS, search: '  ' }, null, 50)).toEqual({
      search: null,
      locked: null,
      flagged: null,
      totp: null,
      verified: null,
      role: null,
      sort: 'created',
      after: null,
      limit: 50,
    });
  });
  it('maps each filter and the cursor', () => {
    const q = toQuery(
      {
        search: ' ann ',
        locked: true,
        flagged: true,
        totp: 'no',
        verified: 'yes',
        role: 'support',
        sort: 'last_active',
      },
      'cur-1',
    );
    expect(q).toMatchObject({
      search: 'ann',
      locked: true,
      flagged: true,
      totp: false,
      verified: true,
      role: 'support',
      sort: 'last_active',
      after: 'cur-1',
    });
  });
  it('never asks for "not locked": the checkbox narrows or does nothing', () => {
    expect(toQuery({ ...NO_FILTERS, locked: false }, null).locked).toBeNull();
  });
});

describe('filters in words', () => {
  it('knows whether anything narrows the list (sort does not)', () => {
    expect(hasFilters(NO_FILTERS)).toBe(false);
    expect(hasFilters({ ...NO_FILTERS, sort: 'last_active' })).toBe(false);
    expect(hasFilters({ ...NO_FILTERS, totp: 'yes' })).toBe(true);
  });
  it('describes them for the empty state', () => {
    expect(describeFilters({ ...NO_FILTERS, search: 'zed', locked: true, totp: 'no' })).toBe('“zed”, locked, 2FA off');
  });
});

describe('keyset paging', () => {
  it('asks for the first page before anything else', () => {
    const s = initialPager();
    expect(shouldLoadMore(s, -1)).toBe(true);
    const { state, after } = beginLoad(s);
    expect(after).toBeNull();
    expect(state.loading).toBe(true);
    expect(shouldLoadMore(state, 0)).toBe(false);
  });

  it('appends pages, follows the cursor, and stops at the end', () => {
    let s = initialPager();
    let b = beginLoad(s);
    s = applyPage(b.state, b.generation, page(0, 100, 'c1'));
    expect(s.items).toHaveLength(100);
    expect(s.cursor).toBe('c1');
    expect(s.done).toBe(false);

    b = beginLoad(s);
    expect(b.after).toBe('c1');
    s = applyPage(b.state, b.generation, page(100, 30, null));
    expect(s.items).toHaveLength(130);
    expect(s.done).toBe(true);
    expect(canLoadMore(s)).toBe(false);
    expect(shouldLoadMore(s, 129)).toBe(false);
  });

  it('loads the next page only when the view nears the end of what is loaded', () => {
    let s = initialPager();
    const b = beginLoad(s);
    s = applyPage(b.state, b.generation, page(0, 100, 'c1'));
    expect(shouldLoadMore(s, 20, 40)).toBe(false);
    expect(shouldLoadMore(s, 59, 40)).toBe(false);
    expect(shouldLoadMore(s, 60, 40)).toBe(true);
  });

  it('drops an answer for a query that has since changed', () => {
    let s = initialPager();
    const old = beginLoad(s);
    s = resetPager(old.state);
    expect(s.loading).toBe(false);
    const stale = applyPage(s, old.generation, page(0, 5, 'x'));
    expect(stale).toBe(s);
    expect(applyError(s, old.generation, 'boom')).toBe(s);
  });

  it('keeps the first copy when a row shows up on two pages', () => {
    let s = initialPager();
    let b = beginLoad(s);
    s = applyPage(b.state, b.generation, page(0, 3, 'c'));
    b = beginLoad(s);
    s = applyPage(b.state, b.generation, page(2, 3, null));
    expect(s.items.map((u) => u.id)).toEqual(['u0', 'u1', 'u2', 'u3', 'u4']);
  });

  it('holds after an error until retried, then resumes from the same cursor', () => {
    let s = initialPager();
    let b = beginLoad(s);
    s = applyPage(b.state, b.generation, page(0, 10, 'c1'));
    b = beginLoad(s);
    s = applyError(b.state, b.generation, 'database unreachable');
    expect(s.error).toBe('database unreachable');
    expect(shouldLoadMore(s, 9)).toBe(false);
    s = clearError(s);
    expect(shouldLoadMore(s, 9)).toBe(true);
    expect(beginLoad(s).after).toBe('c1');
  });

  it('patches one loaded row in place', () => {
    let s = initialPager();
    const b = beginLoad(s);
    s = applyPage(b.state, b.generation, page(0, 3, null));
    const p = patchUser(s, 'u1', { locked: true });
    expect(p.items[1]?.locked).toBe(true);
    expect(p.items[0]).toBe(s.items[0]);
    expect(patchUser(s, 'nobody', { locked: true })).toBe(s);
  });
});

describe('virtual window', () => {
  it('renders only the rows in view plus the overscan', () => {
    expect(visibleRange(0, 560, 56, 1_000_000, 8)).toEqual({ start: 0, end: 19 });
    expect(visibleRange(56 * 500, 560, 56, 1_000_000, 8)).toEqual({ start: 492, end: 519 });
  });
  it('clamps to the rows that exist', () => {
    expect(visibleRange(0, 560, 56, 5)).toEqual({ start: 0, end: 5 });
    expect(visibleRange(10_000, 560, 56, 0)).toEqual({ start: 0, end: 0 });
  });
  it('scrolls just enough to reveal the selected row', () => {
    expect(scrollToReveal(0, 0, 560, 56)).toBeNull();
    expect(scrollToReveal(10, 0, 560, 56)).toBe(56);
    expect(scrollToReveal(2, 560, 560, 56)).toBe(112);
  });
});

describe('keyTarget', () => {
  it('moves by one row, a screenful, or to either end, clamped to the rows loaded', () => {
    expect(keyTarget('ArrowDown', 3, 10, 4)).toBe(4);
    expect(keyTarget('ArrowUp', 0, 10, 4)).toBe(0);
    expect(keyTarget('PageDown', 8, 10, 4)).toBe(9);
    expect(keyTarget('PageUp', 5, 10, 4)).toBe(1);
    expect(keyTarget('Home', 5, 10, 4)).toBe(0);
    expect(keyTarget('End', 5, 10, 4)).toBe(9);
  });
  it('pages by at least one row and ignores other keys and empty lists', () => {
    expect(keyTarget('PageDown', 2, 10, 0)).toBe(3);
    expect(keyTarget('Enter', 2, 10, 4)).toBeNull();
    expect(keyTarget('ArrowDown', 0, 0, 4)).toBeNull();
  });
});
