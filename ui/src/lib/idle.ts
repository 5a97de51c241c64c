/** The client-side idle lock: the console locks itself after `idle_timeout_ms` without input. */
export function isIdle(lastInputAt: number, now: number, idleTimeoutMs: number): boolean {
  return idleTimeoutMs > 0 && now - lastInputAt >= idleTimeoutMs;
}

/** How often to check, so the lock comes at most a few seconds late and the check stays cheap. */
export function idleCheckInterval(idleTimeoutMs: number): number {
  return Math.min(15_000, Math.max(1_000, Math.floor(idleTimeoutMs / 20)));
}
