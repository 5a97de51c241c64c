import { describe, expect, it, vi } from 'vitest';
import { BackendError } from './backend';
import { ActionCancelled, isCancelled } from './errors';
import { withReauth, type Prompts } from './reauth';

function prompts(answer: boolean): Prompts & { reauth: ReturnType<typeof vi.fn>; unlock: ReturnType<typeof vi.fn> } {
  return { reauth: vi.fn(async () => answer), unlock: vi.fn(async () => answer) };
}

describe('withReauth', () => {
  it('returns the result without prompting when the action succeeds', async () => {
    const p = prompts(true);
    await expect(withReauth(async () => 42, p)).resolves.toBe(42);
    expect(p.reauth).not.toHaveBeenCalled();
    expect(p.unlock).not.toHaveBeenCalled();
  });

  it('on reauth_required asks for re-authentication and retries once', async () => {
    const p = prompts(true);
    const action = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(new BackendError('reauth_required', 'sign in again'))
      .mockResolvedValueOnce('done');
    await expect(withReauth(action, p)).resolves.toBe('done');
    expect(p.reauth).toHaveBeenCalledTimes(1);
    expect(action).toHaveBeenCalledTimes(2);
  });

  it('on unauthenticated shows the lock screen and retries once', async () => {
    const p = prompts(true);
    const action = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(new BackendError('unauthenticated', 'session ended'))
      .mockResolvedValueOnce('ok');
    await expect(withReauth(action, p)).resolves.toBe('ok');
    expect(p.unlock).toHaveBeenCalledTimes(1);
    expect(p.reauth).not.toHaveBeenCalled();
  });

  it('does not loop: a second refusal is passed on', async () => {
    const p = prompts(true);
    const err = new BackendError('reauth_required', 'still stale');
    const action = vi.fn<() => Promise<string>>().mockRejectedValue(err);
    await expect(withReauth(action, p)).rejects.toBe(err);
    expect(action).toHaveBeenCalledTimes(2);
    expect(p.reauth).toHaveBeenCalledTimes(1);
  });

  it('cancels without retrying when the admin dismisses the prompt', async () => {
    const p = prompts(false);
    const action = vi.fn<() => Promise<string>>().mockRejectedValue(new BackendError('reauth_required', 'x'));
    const err = await withReauth(action, p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActionCancelled);
    expect(isCancelled(err)).toBe(true);
    expect(action).toHaveBeenCalledTimes(1);
  });

  it('passes other errors straight through', async () => {
    const p = prompts(true);
    const err = new BackendError('forbidden', 'no');
    await expect(withReauth(() => Promise.reject(err), p)).rejects.toBe(err);
    expect(p.reauth).not.toHaveBeenCalled();
  });
});
