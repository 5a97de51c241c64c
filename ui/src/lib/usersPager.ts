/**
 * Keyset paging of the users list. The list never holds more than the pages the admin has scrolled
 * through, and a page is asked for only when the visible rows come near the end of what is loaded.
 * Every query change starts a new generation, so a late answer for an old query is dropped.
 */
import type { Role, UserQuery, UsersPage, UserSort, UserSummary } from './backend/generated';

export const PAGE_SIZE = 100;
/** Ask for the next page when the last visible row is within this many rows of the end. */
export const PREFETCH_ROWS = 40;

export type TriState = 'any' | 'yes' | 'no';

export interface UserFilters {
  search: string;
  locked: boolean;
  /** Only users with an open suspicious-activity flag. */
  flagged: boolean;
  totp: TriState;
  verified: TriState;
  role: Role | 'any';
  sort: UserSort;
}

export const NO_FILTERS: UserFilters = {
  search: '',
  locked: false,
  flagged: false,
  totp: 'any',
  verified: 'any',
  role: 'any',
  sort: 'created',
};

const tri = (t: TriState): boolean | null => (t === 'any' ? null : t === 'yes');

export function toQuery(f: UserFilters, after: string | null, limit = PAGE_SIZE): UserQuery {
  const search = f.search.trim();
  return {
    search: search === '' ? null : search,
    locked: f.locked ? true : null,
    flagged: f.flagged ? true : null,
    totp: tri(f.totp),
    verified: tri(f.verified),
    role: f.role === 'any' ? null : f.role,
    sort: f.sort,
    after,
    limit,
  };
}

/** Whether anything narrows the list (the sort order does not). */
export function hasFilters(f: UserFilters): boolean {
  return (
    f.search.trim() !== '' ||
    f.locked ||
    f.flagged ||
    f.totp !== 'any' ||
    f.verified !== 'any' ||
    f.role !== 'any'
  );
}

/** "matches “ann”, locked, 2FA off" — how the empty state names what was asked for. */
export function describeFilters(f: UserFilters): string {
  const parts: string[] = [];
  if (f.search.trim()) parts.push(`“${f.search.trim()}”`);
  if (f.locked) parts.push('locked');
  if (f.flagged) parts.push('with an open flag');
  if (f.totp !== 'any') parts.push(f.totp === 'yes' ? '2FA on' : '2FA off');
  if (f.verified !== 'any') parts.push(f.verified === 'yes' ? 'email verified' : 'email unverified');
  if (f.role !== 'any') parts.push(`role ${f.role}`);
  return parts.join(', ');
}

export interface PagerState<T extends { id: string } = UserSummary> {
  generation: number;
  items: T[];
  /** The cursor for the next page; null once the end has been reached. */
  cursor: string | null;
  /** Whether the first page of this generation has been asked for. */
  started: boolean;
  done: boolean;
  loading: boolean;
  error: string | null;
}

export function initialPager<T extends { id: string } = UserSummary>(): PagerState<T> {
  return { generation: 0, items: [], cursor: null, started: false, done: false, loading: false, error: null };
}

/** A new query: forget everything loaded, bump the generation. */
export function resetPager<T extends { id: string }>(s: PagerState<T>): PagerState<T> {
  return { ...initialPager<T>(), generation: s.generation + 1 };
}

/** Whether a page may be requested now (none in flight, not at the end, no unresolved error). */
export function canLoadMore<T extends { id: string }>(s: PagerState<T>): boolean {
  return !s.loading && !s.done && s.error === null;
}

/** Whether the rows up to `lastVisible` call for the next page. */
export function shouldLoadMore<T extends { id: string }>(s: PagerState<T>, lastVisible: number, prefetch = PREFETCH_ROWS): boolean {
  if (!canLoadMore(s)) return false;
  if (!s.started) return true;
  return lastVisible >= s.items.length - prefetch;
}

/** Marks a request as in flight; returns the cursor to send (null for the first page). */
export function beginLoad<T extends { id: string }>(
  s: PagerState<T>,
): { state: PagerState<T>; after: string | null; generation: number } {
  return { state: { ...s, loading: true, started: true, error: null }, after: s.cursor, generation: s.generation };
}

export function applyPage(s: PagerState, generation: number, page: UsersPage): PagerState {
  return applyItems(s, generation, page.users, page.next_cursor);
}

/** Appends a page of any keyset-paged list (users, sessions). */
export function applyItems<T extends { id: string }>(
  s: PagerState<T>,
  generation: number,
  items: readonly T[],
  nextCursor: string | null,
): PagerState<T> {
  if (generation !== s.generation) return s;
  // Keyset pages never overlap, but a row changed between pages could reappear: keep the first copy.
  const seen = new Set(s.items.map((u) => u.id));
  const fresh = items.filter((u) => !seen.has(u.id));
  return {
    ...s,
    items: fresh.length ? [...s.items, ...fresh] : s.items,
    cursor: nextCursor,
    done: nextCursor === null,
    loading: false,
    error: null,
  };
}

export function applyError<T extends { id: string }>(
  s: PagerState<T>,
  generation: number,
  message: string,
): PagerState<T> {
  if (generation !== s.generation) return s;
  return { ...s, loading: false, error: message };
}

/** After an error, let the next scroll or the Retry button ask again from the same cursor. */
export function clearError<T extends { id: string }>(s: PagerState<T>): PagerState<T> {
  return { ...s, error: null };
}

/** Replaces one row in place (after an action on that user), keeping the scroll position. */
export function patchUser(s: PagerState, id: string, patch: Partial<UserSummary>): PagerState {
  const i = s.items.findIndex((u) => u.id === id);
  if (i < 0) return s;
  const items = s.items.slice();
  items[i] = { ...items[i]!, ...patch };
  return { ...s, items };
}

/** The slice of rows to render for a viewport, with `overscan` extra rows either side. */
export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  total: number,
  overscan = 8,
): { start: number; end: number } {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const count = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const end = Math.min(total, first + count + overscan);
  const start = Math.min(Math.max(0, first - overscan), end);
  return { start, end };
}

/**
 * Where a navigation key moves a list's cursor (clamped to the rows loaded), or null for any other key:
 * arrows by one row, PageUp/PageDown by a screenful (`pageRows`), Home and End to either end.
 */
export function keyTarget(key: string, cursor: number, total: number, pageRows: number): number | null {
  if (total === 0) return null;
  const page = Math.max(1, pageRows);
  const moves: Record<string, number> = {
    ArrowDown: cursor + 1,
    ArrowUp: cursor - 1,
    PageDown: cursor + page,
    PageUp: cursor - page,
    Home: 0,
    End: total - 1,
  };
  const to = moves[key];
  return to === undefined ? null : Math.max(0, Math.min(total - 1, to));
}

/** The scrollTop that brings row `index` fully into view, or null when it already is. */
export function scrollToReveal(index: number, scrollTop: number, viewportHeight: number, rowHeight: number): number | null {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return bottom - viewportHeight;
  return null;
}
