import type { SessionView, UserSummary } from './backend/generated';

export function userSummary(p: Partial<UserSummary> = {}): UserSummary {
  return {
    id: '7f0c1d2e-0000-4000-8000-000000000001',
    email: 'ann@example.com',
    name: 'Ann Example',
    role: 'user',
    email_verified: true,
    totp_enabled: false,
    disabled: false,
    created_at: Date.UTC(2024, 0, 1),
    last_active_at: null,
    locked: false,
    locked_until: null,
    locked_permanently: false,
    failed_count: 0,
    lock_count: 0,
    last_failed_at: null,
    last_failed_ip: null,
    active_sessions: 0,
    ...p,
  };
}

export function session(p: Partial<SessionView> = {}): SessionView {
  return {
    id: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    user_id: '7f0c1d2e-0000-4000-8000-000000000001',
    created_at: 0,
    last_seen_at: 0,
    refreshed_at: 0,
    expires_at: 0,
    authenticated_at: 0,
    ip: null,
    user_agent: null,
    device: 'desktop',
    browser: null,
    browser_version: null,
    os: null,
    country: null,
    city: null,
    auth_method: 'password',
    client: null,
    privileged: false,
    elevated_until: null,
    revoked_at: null,
    revoked_by: null,
    revoke_reason: null,
    status: 'active',
    is_current: false,
    ...p,
  };
}
