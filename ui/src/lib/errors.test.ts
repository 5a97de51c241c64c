import { describe, expect, it } from 'vitest';
import { BackendError } from './backend';
import { messageFor, routeError } from './errors';

describe('BackendError.from', () => {
  it('reads the {code, message, field} payload of a rejected command', () => {
    const e = BackendError.from({ code: 'invalid_input', message: 'must not be empty', field: 'reason' });
    expect(e).toBeInstanceOf(BackendError);
    expect(e.code).toBe('invalid_input');
    expect(e.message).toBe('must not be empty');
    expect(e.field).toBe('reason');
  });
  it('treats a payload without field as having none', () => {
    expect(BackendError.from({ code: 'forbidden', message: 'no', field: null }).field).toBeUndefined();
  });
  it('wraps a bare string or an unknown value as internal', () => {
    expect(BackendError.from('command not found').code).toBe('internal');
    expect(BackendError.from('command not found').message).toBe('command not found');
    expect(BackendError.from(undefined).code).toBe('internal');
    expect(BackendError.from(new TypeError('x')).message).toBe('x');
  });
});

describe('routeError', () => {
  it('sends a dead console session to the lock screen', () => {
    expect(routeError({ code: 'unauthenticated', message: 'idle' })).toEqual({ kind: 'lock' });
  });
  it('sends a stale sign-in to the re-auth dialog', () => {
    expect(routeError({ code: 'reauth_required', message: 'x' })).toEqual({ kind: 'reauth' });
  });
  it('offers to create a missing schema', () => {
    expect(routeError({ code: 'schema_missing', message: 'no tables' })).toEqual({
      kind: 'schema_missing',
      message: 'no tables',
    });
  });
  it('marks the field named by invalid_input and policy_invalid', () => {
    expect(routeError({ code: 'invalid_input', message: 'required', field: 'reason' })).toEqual({
      kind: 'field',
      field: 'reason',
      message: 'required',
    });
    expect(routeError({ code: 'policy_invalid', message: 'too long', field: 'session.ttl' })).toMatchObject({
      kind: 'field',
      field: 'session.ttl',
    });
  });
  it('keeps sign-in errors on the form, with the server message (which says until when)', () => {
    expect(routeError({ code: 'locked', message: 'locked until 12:30' })).toEqual({
      kind: 'form',
      code: 'locked',
      message: 'locked until 12:30',
    });
    expect(routeError({ code: 'invalid_credentials', message: 'wrong email or password' })).toMatchObject({
      kind: 'form',
    });
  });
  it('puts anything else in the banner', () => {
    expect(routeError({ code: 'internal', message: 'disk full' })).toEqual({
      kind: 'banner',
      code: 'internal',
      message: 'disk full',
    });
  });
});

describe('messageFor', () => {
  it('adds the next step for a malformed URL', () => {
    expect(messageFor({ code: 'database_url_invalid', message: 'bad URL.' })).toContain('postgres://');
  });
  it('says a connection or schema problem once, as the engine words it, without a wrong hint', () => {
    const refused = 'cannot connect to the database: connection refused at 127.0.0.1:1: is PostgreSQL running there, and is the port right?';
    expect(messageFor({ code: 'database_unreachable', message: refused })).toBe(refused);
    const foreign = "the database holds tables that are not Warden's (accounts, sessions): refusing to touch it";
    expect(messageFor({ code: 'schema_incompatible', message: foreign })).toBe(foreign);
    expect(messageFor({ code: 'schema_incompatible', message: foreign })).not.toContain('Warden version');
  });
  it('passes other messages through', () => {
    expect(messageFor({ code: 'locked', message: 'Locked until 12:30' })).toBe('Locked until 12:30');
  });
});
