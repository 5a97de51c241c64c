import { describe, expect, it } from 'vitest';
import { session } from './fixtures.test-util';
import {
  activeSessions,
  authMethodLabel,
  browserLabel,
  deviceKind,
  locationLabel,
  revokeReasonLabel,
  sessionDetails,
  sessionStatusLabel,
} from './sessions';

describe('sessionStatusLabel', () => {
  it('names each live or expired state', () => {
    expect(sessionStatusLabel(session({ status: 'active' })).label).toBe('Active');
    expect(sessionStatusLabel(session({ status: 'idle' })).label).toBe('Idle-expired');
    expect(sessionStatusLabel(session({ status: 'expired' })).label).toBe('Expired');
    expect(sessionStatusLabel(session({ status: 'absolute' })).label).toBe('Expired');
  });
  it('says why and by whom a revoked session ended', () => {
    const s = session({ status: 'revoked', revoke_reason: 'admin', revoked_by: 'admin@demo.test' });
    expect(sessionStatusLabel(s).label).toBe('Ended: administrator · by admin@demo.test');
    expect(sessionStatusLabel(session({ status: 'revoked', revoke_reason: 'user_logout' })).label).toBe(
      'Ended: signed out',
    );
  });
  it('shows an unknown revoke reason as it is', () => {
    expect(sessionStatusLabel(session({ status: 'revoked', revoke_reason: 'weird' })).label).toBe('Ended: weird');
    expect(revokeReasonLabel(null)).toBe('no reason recorded');
  });
  it('only active sessions are tone ok', () => {
    expect(sessionStatusLabel(session({ status: 'active' })).tone).toBe('ok');
    expect(sessionStatusLabel(session({ status: 'idle' })).tone).toBe('muted');
  });
});

describe('session facts', () => {
  it('maps device strings to the five icons', () => {
    expect(deviceKind('desktop')).toBe('desktop');
    expect(deviceKind('Mobile')).toBe('mobile');
    expect(deviceKind('tablet')).toBe('tablet');
    expect(deviceKind('bot')).toBe('bot');
    expect(deviceKind('toaster')).toBe('unknown');
  });
  it('joins browser and version, city and country', () => {
    expect(browserLabel('Firefox', '128')).toBe('Firefox 128');
    expect(browserLabel('Safari', null)).toBe('Safari');
    expect(browserLabel(null, '1')).toBeNull();
    expect(locationLabel('Lyon', 'France')).toBe('Lyon, France');
    expect(locationLabel(null, 'France')).toBe('France');
    expect(locationLabel(null, null)).toBeNull();
  });
  it('names auth methods', () => {
    expect(authMethodLabel('password+totp')).toBe('Password + 2FA');
    expect(authMethodLabel('sso')).toBe('sso');
  });
  it('counts active sessions', () => {
    expect(activeSessions([session(), session({ status: 'revoked' }), session({ status: 'idle' })])).toHaveLength(1);
  });
});

describe('sessionDetails', () => {
  it('puts device and place on one line, leaving out what is unknown', () => {
    expect(
      sessionDetails({ browser: 'Chrome', browser_version: '131', os: 'Android 14', ip: '203.0.113.7', city: 'Berlin', country: 'DE' }),
    ).toBe('Chrome 131 · Android 14 · 203.0.113.7 · Berlin, DE');
    expect(sessionDetails({ browser: null, browser_version: null, os: null, ip: '2001:db8::1', city: null, country: null })).toBe(
      '2001:db8::1',
    );
    expect(sessionDetails({ browser: null, browser_version: null, os: null, ip: null, city: null, country: null })).toBe(
      'No device or place recorded',
    );
  });
});
