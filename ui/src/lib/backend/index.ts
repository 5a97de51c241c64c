/**
 * The one door to the Rust side. Every Tauri command has one typed function here, and nothing else in the
 * UI imports `invoke` (STYLE rule 11; eslint enforces it). A rejected command becomes a `BackendError`
 * carrying the stable `code` the screens branch on.
 */
import { Channel, invoke } from '@tauri-apps/api/core';
import type {
  AppInfo,
  AuditFilterInput,
  AuditPage,
  AuditProgress,
  AuditQuery,
  BulkEnded,
  BulkPlan,
  BulkProgress,
  BulkRequest,
  BulkSummary,
  Connected,
  ExportFormat,
  ExportReport,
  FlagQuery,
  FlagsPage,
  FlagView,
  LibrarySessionCount,
  LibraryUserPage,
  Me,
  Overview,
  PolicyEntry,
  PolicyForm,
  PolicyPreview,
  PolicyUpdate,
  PolicyVersionView,
  Resolution,
  SessionCount,
  SessionFilter,
  SessionQuery,
  SessionsPage,
  SignInStep,
  SubjectOverview,
  SubjectSessionFilter,
  SubjectSessionsPage,
  SubjectSessionStatus,
  SubjectUsersPage,
  UserDetail,
  UserQuery,
  UsersPage,
  UserTimeline,
  UserView,
  Verification,
} from './generated';

export type * from './generated';

/** The error codes the Rust side sends are generated: `ErrorCode` (every code of every door). */

export class BackendError extends Error {
  readonly code: string;
  readonly field: string | undefined;

  constructor(code: string, message: string, field?: string | null) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
    this.field = field ?? undefined;
  }

  /** Turns whatever a command rejected with into a BackendError. */
  static from(payload: unknown): BackendError {
    if (payload instanceof BackendError) return payload;
    if (payload !== null && typeof payload === 'object') {
      const p = payload as { code?: unknown; message?: unknown; field?: unknown };
      if (typeof p.code === 'string') {
        const message = typeof p.message === 'string' && p.message !== '' ? p.message : p.code;
        const field = typeof p.field === 'string' ? p.field : undefined;
        return new BackendError(p.code, message, field);
      }
      if (payload instanceof Error) return new BackendError('internal', payload.message);
    }
    if (typeof payload === 'string' && payload !== '') return new BackendError('internal', payload);
    return new BackendError('internal', 'The console backend failed without saying why.');
  }
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw BackendError.from(e);
  }
}

// Connections
export const appInfo = (): Promise<AppInfo> => call('app_info');
export const openDemo = (): Promise<Connected> => call('open_demo');
export const openSqlite = (
  path: string,
  createSchema: boolean,
  save: boolean,
  dataKey: string | null,
): Promise<Connected> => call('open_sqlite', { path, createSchema, save, dataKey });
/** Stops waiting for the database being opened; the open in progress then fails with `cancelled`. */
export const cancelConnect = (): Promise<boolean> => call('cancel_connect');
export const openPostgres = (
  url: string,
  password: string | null,
  createSchema: boolean,
  save: boolean,
  dataKey: string | null,
): Promise<Connected> => call('open_postgres', { url, password, createSchema, save, dataKey });
export const openSaved = (
  id: string,
  password: string | null,
  createSchema: boolean,
  dataKey: string | null,
): Promise<Connected> => call('open_saved', { id, password, createSchema, dataKey });
export const forgetConnection = (id: string): Promise<void> => call('forget_connection', { id });
export const disconnect = (): Promise<void> => call('disconnect');

// The console's own session
export const signIn = (email: string, password: string): Promise<SignInStep> =>
  call('sign_in', { email, password });
export const signInTotp = (code: string): Promise<Me> => call('sign_in_totp', { code });
export const reauthenticate = (password: string, code: string | null): Promise<Me> =>
  call('reauthenticate', { password, code });
export const signOut = (): Promise<void> => call('sign_out');
export const me = (): Promise<Me | null> => call('me');

// Users, sessions, policy
export const listUsers = (query: UserQuery): Promise<UsersPage> => call('list_users', { query });
export const getUser = (id: string): Promise<UserDetail> => call('get_user', { id });
/** One user's sessions and marks on a time axis for `[from, to]` (unix milliseconds). */
export const userTimeline = (userId: string, from: number, to: number): Promise<UserTimeline> =>
  call('user_timeline', { userId, from, to });
/** The first screen: active sessions, sign-ins per hour, locked accounts, latest admin actions. */
export const getOverview = (): Promise<Overview> => call('get_overview');
export const unlockUser = (id: string, reason: string): Promise<UserView> => call('unlock_user', { id, reason });
export const resetTotp = (id: string, reason: string): Promise<UserView> => call('reset_totp', { id, reason });
export const revokeSession = (sessionId: string, reason: string): Promise<boolean> =>
  call('revoke_session', { sessionId, reason });
export const revokeUserSessions = (userId: string, reason: string): Promise<number> =>
  call('revoke_user_sessions', { userId, reason });
export const getPolicy = (): Promise<PolicyForm> => call('get_policy');
/** Checks a proposed change (every broken rule), its diff and simulation; saves nothing. */
export const previewPolicy = (changes: PolicyEntry[]): Promise<PolicyPreview> =>
  call('preview_policy', { changes });
/** Saves a change edited from `baseVersion`; refused with `policy_conflict` if another version was saved since. */
export const savePolicy = (
  changes: PolicyEntry[],
  note: string,
  shortenSessions: boolean,
  baseVersion: number,
): Promise<PolicyUpdate> => call('save_policy', { changes, note, shortenSessions, baseVersion });
export const policyHistory = (): Promise<PolicyVersionView[]> => call('policy_history');
export const rollbackPolicy = (
  version: number,
  note: string,
  shortenSessions: boolean,
  baseVersion: number,
): Promise<PolicyUpdate> => call('rollback_policy', { version, note, shortenSessions, baseVersion });

// Sessions across users, bulk termination
export const listSessions = (query: SessionQuery): Promise<SessionsPage> => call('list_sessions', { query });
export const countSessions = (filter: SessionFilter): Promise<SessionCount> => call('count_sessions', { filter });
export const planBulkRevoke = (request: BulkRequest): Promise<BulkPlan> => call('plan_bulk_revoke', { request });
/** Runs a bulk termination; `onProgress` is called after every batch (progress is fed by the Rust side). */
export function bulkRevoke(request: BulkRequest, onProgress: (p: BulkProgress) => void): Promise<BulkSummary> {
  const channel = new Channel<BulkProgress>();
  channel.onmessage = onProgress;
  return call('bulk_revoke', { request, onProgress: channel });
}
/** Asks a running bulk termination to stop after its current batch; false when none is running. */
export const cancelBulkRevoke = (): Promise<boolean> => call('cancel_bulk_revoke');

// The audit log
export const listAudit = (query: AuditQuery): Promise<AuditPage> =>
  call('list_audit', { query });
/**
 * Exports the filtered log to a file the operator picks in the native save dialog (opened by the Rust
 * side: no path leaves the webview); null when the dialog is cancelled.
 */
export function exportAudit(
  filter: AuditFilterInput,
  format: ExportFormat,
  onProgress: (p: AuditProgress) => void,
): Promise<ExportReport | null> {
  const channel = new Channel<AuditProgress>();
  channel.onmessage = onProgress;
  return call('export_audit', { filter, format, onProgress: channel });
}
/** Walks the audit hash chain; `onProgress` after every batch. The check itself is audited. */
export function verifyAudit(
  onProgress: (p: AuditProgress) => void,
): Promise<Verification> {
  const channel = new Channel<AuditProgress>();
  channel.onmessage = onProgress;
  return call('verify_audit', { onProgress: channel });
}

// Suspicious-activity flags
/** A page of flags, newest first; `open` counts every open flag whatever the query. */
export const listFlags = (query: FlagQuery): Promise<FlagsPage> => call('list_flags', { query });
/** Closes an open flag as dismissed or actioned, with the reason the audit log records. */
export const resolveFlag = (id: string, resolution: Resolution, reason: string): Promise<FlagView> =>
  call('resolve_flag', { id, resolution, reason });

// A library's auth database that Warden adopted (Better Auth, Auth.js): its users, in its own terms
/**
 * The first screen on the library's database: its users and live sessions at a glance, sessions begun per
 * hour, the addresses holding the most live sessions, Warden's latest admin actions. A count the schema
 * cannot give is null, never 0.
 */
export const libraryOverview = (): Promise<SubjectOverview> => call('library_overview');
/** A page of the library's users by email, those whose email or name starts with `search`. */
export const listLibraryUsers = (search: string | null, after: string | null, limit: number): Promise<SubjectUsersPage> =>
  call('list_library_users', { search, after, limit });
/** One of the library's users (by its id), with live sessions and those Warden ended. */
export const getLibraryUser = (id: string): Promise<LibraryUserPage> => call('get_library_user', { id });
/** One library user's sessions as a timeline over a range (where its sessions record their start). */
export const libraryTimeline = (id: string, from: number, to: number): Promise<UserTimeline> =>
  call('library_timeline', { id, from, to });
/** Deletes one session row, as the library does. */
export const revokeLibrarySession = (key: string, reason: string): Promise<void> =>
  call('revoke_library_session', { key, reason });
/** Deletes every session of the user; resolves to how many. */
export const revokeLibraryUser = (id: string, reason: string): Promise<number> =>
  call('revoke_library_user', { id, reason });
/** Bans the user until `until` (unix ms) or until lifted; resolves to how many sessions ended. */
export const banLibraryUser = (id: string, reason: string, until: number | null): Promise<number> =>
  call('ban_library_user', { id, reason, until });
export const unbanLibraryUser = (id: string, reason: string): Promise<void> =>
  call('unban_library_user', { id, reason });
/** Removes the user's twoFactor row and clears twoFactorEnabled; resolves to whether a secret was there. */
export const resetLibraryTwoFactor = (id: string, reason: string): Promise<boolean> =>
  call('reset_library_two_factor', { id, reason });
/** A page of the library's sessions across users, newest first; pass `next_cursor` as `after` to go on. */
export const listLibrarySessions = (
  filter: SubjectSessionFilter,
  status: SubjectSessionStatus,
  after: string | null,
  limit: number,
): Promise<SubjectSessionsPage> => call('list_library_sessions', { filter, status, after, limit });
/**
 * The live sessions the filter takes and their users (null: every live session in the library's table):
 * the dry run of ending them, or of the emergency sign-out.
 */
export const countLibrarySessions = (filter: SubjectSessionFilter | null = null): Promise<LibrarySessionCount> =>
  call('count_library_sessions', { filter });
/** Ends every live session the filter takes, in audited batches (security admins). */
export const endLibrarySessions = (filter: SubjectSessionFilter, reason: string): Promise<BulkEnded> =>
  call('end_library_sessions', { filter, reason });
/** Ends every live session in the library's table, in audited batches. */
export const signOutLibraryEveryone = (reason: string): Promise<BulkEnded> =>
  call('sign_out_library_everyone', { reason });
