/** What a session row says: its device, where it is, and in words why it is (no longer) valid. */
import type { AuthMethod, SessionStatus, SessionView } from './backend/generated';

export type DeviceKind = 'desktop' | 'mobile' | 'tablet' | 'bot' | 'unknown';

export function deviceKind(device: string): DeviceKind {
  const d = device.toLowerCase();
  if (d === 'desktop' || d === 'mobile' || d === 'tablet' || d === 'bot') return d;
  if (d === 'phone' || d === 'smartphone') return 'mobile';
  if (d === 'crawler' || d === 'spider') return 'bot';
  return 'unknown';
}

export function deviceLabel(kind: DeviceKind): string {
  return { desktop: 'Desktop', mobile: 'Mobile', tablet: 'Tablet', bot: 'Bot', unknown: 'Unknown device' }[kind];
}

/** "Firefox 128", "Safari", or null when the agent was not recognised. */
export function browserLabel(browser: string | null, version: string | null): string | null {
  if (!browser) return null;
  return version ? `${browser} ${version}` : browser;
}

/** "Lyon, France", "France", or null. */
export function locationLabel(city: string | null, country: string | null): string | null {
  const parts = [city, country].filter((p): p is string => !!p);
  return parts.length ? parts.join(', ') : null;
}

/** A session's device and place on one line: "Chrome 131 · Android 14 · 203.0.113.7 · Berlin, DE". */
export function sessionDetails(
  s: Pick<SessionView, 'browser' | 'browser_version' | 'os' | 'ip' | 'city' | 'country'>,
): string {
  const parts = [browserLabel(s.browser, s.browser_version), s.os, s.ip, locationLabel(s.city, s.country)];
  return parts.filter((p): p is string => !!p).join(' · ') || 'No device or place recorded';
}

const AUTH_METHOD_LABELS: Record<AuthMethod, string> = {
  password: 'Password',
  'password+totp': 'Password + 2FA',
  backup_code: 'Backup code',
};

export function authMethodLabel(method: string): string {
  return AUTH_METHOD_LABELS[method as AuthMethod] ?? method;
}

const REVOKE_REASONS: Record<string, string> = {
  user_logout: 'signed out',
  admin: 'administrator',
  bulk: 'bulk sign-out',
  emergency: 'emergency sign-out',
  idle: 'idle timeout',
  absolute: 'maximum lifetime',
  evicted: 'session limit (evicted)',
  password_change: 'password changed',
};

export function revokeReasonLabel(reason: string | null): string {
  if (!reason) return 'no reason recorded';
  return REVOKE_REASONS[reason] ?? reason;
}

export type Tone = 'ok' | 'warn' | 'danger' | 'muted' | 'info';

export interface StatusLabel {
  /** Short text for the status column. */
  label: string;
  tone: Tone;
  /** A longer explanation for the tooltip. */
  detail: string;
}

const STATUS_BASE: Record<Exclude<SessionStatus, 'revoked'>, StatusLabel> = {
  active: { label: 'Active', tone: 'ok', detail: 'Valid: the holder can use it now.' },
  idle: {
    label: 'Idle-expired',
    tone: 'muted',
    detail: 'Ended because it went unused for longer than the idle timeout.',
  },
  absolute: {
    label: 'Expired',
    tone: 'muted',
    detail: 'Ended at its maximum lifetime, whatever its activity.',
  },
  expired: { label: 'Expired', tone: 'muted', detail: 'Not refreshed before its expiry.' },
};

/** The status column: "Active", "Idle-expired", "Expired", or "Ended: <reason> by <whom>". */
export function sessionStatusLabel(s: Pick<SessionView, 'status' | 'revoke_reason' | 'revoked_by'>): StatusLabel {
  if (s.status !== 'revoked') return STATUS_BASE[s.status];
  const reason = revokeReasonLabel(s.revoke_reason);
  const by = s.revoked_by ? ` · by ${s.revoked_by}` : '';
  return { label: `Ended: ${reason}${by}`, tone: 'muted', detail: `Revoked (${s.revoke_reason ?? 'no reason'})${by}.` };
}

export function activeSessions<T extends Pick<SessionView, 'status'>>(sessions: readonly T[]): T[] {
  return sessions.filter((s) => s.status === 'active');
}
