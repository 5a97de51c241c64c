/** Which way a failed command goes: the lock screen, the re-auth dialog, a form field, or a banner. */
import { BackendError } from './backend';

export type ErrorRoute =
  | { kind: 'lock' }
  | { kind: 'reauth' }
  | { kind: 'schema_missing'; message: string }
  | { kind: 'field'; field: string; message: string }
  | { kind: 'form'; code: string; message: string }
  | { kind: 'banner'; code: string; message: string };

/** Codes that belong next to the form that caused them rather than in a global banner. */
const FORM_CODES = new Set([
  'invalid_credentials',
  'locked',
  'invalid_totp',
  'forbidden',
  'schema_incompatible',
  'database_unreachable',
  'database_url_invalid',
  'data_key_invalid',
  'session_not_found',
  'user_not_found',
  'flag_not_found',
  'invalid_input',
  'policy_invalid',
  'policy_conflict',
]);

/** Shown before asking the engine, which answers the same rule for a blank reason. */
export const REASON_REQUIRED = 'A reason is required: say why, for the audit log.';

export function routeError(e: unknown): ErrorRoute {
  const err = BackendError.from(e);
  switch (err.code) {
    case 'unauthenticated':
      return { kind: 'lock' };
    case 'reauth_required':
      return { kind: 'reauth' };
    case 'schema_missing':
      return { kind: 'schema_missing', message: err.message };
  }
  if ((err.code === 'invalid_input' || err.code === 'policy_invalid') && err.field) {
    return { kind: 'field', field: err.field, message: err.message };
  }
  if (FORM_CODES.has(err.code)) return { kind: 'form', code: err.code, message: messageFor(err) };
  return { kind: 'banner', code: err.code, message: messageFor(err) };
}

/**
 * The sentence to show for an error: the server's message, with a next step where one helps. Connection
 * and schema errors pass through as they are: the engine already says what happened and what to check
 * ("connection refused at 127.0.0.1:1: is PostgreSQL running there…", "… is not a SQLite database",
 * "tables that are not Warden's" or "upgrade Warden"), and a hint of ours would be wrong for some.
 */
export function messageFor(e: unknown): string {
  const err = BackendError.from(e);
  const m = err.message;
  switch (err.code) {
    case 'invalid_credentials':
      return m || 'Wrong email or password.';
    case 'forbidden':
      return m || 'Your role does not allow this action.';
    case 'database_url_invalid':
      return `${m} A PostgreSQL URL looks like postgres://user@host:5432/dbname.`;
    case 'data_key_invalid':
      return `${m} The data key does not match the one this database was created with.`;
    case 'session_not_found':
      return `${m} It may already have ended; the list has been refreshed.`;
    case 'user_not_found':
      return `${m} The account may have been deleted.`;
    case 'flag_not_found':
      return `${m}: someone may have closed it already; the list has been refreshed.`;
    default:
      return m;
  }
}

/** True for an error that only means "the admin closed the dialog": it is not shown. */
export function isCancelled(e: unknown): boolean {
  return e instanceof ActionCancelled;
}

export class ActionCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'ActionCancelled';
  }
}
