/**
 * Runs a console command and, when the server says the console session has gone stale, asks the admin to
 * prove it is still them and retries the command exactly once:
 * - `reauth_required`: a privileged action needs a recent sign-in → the re-auth dialog;
 * - `unauthenticated`: the console session ended or went idle → the lock screen.
 * If the admin gives up (the prompt resolves false) the call rejects with `ActionCancelled`.
 */
import { BackendError } from './backend';
import { ActionCancelled } from './errors';

export interface Prompts {
  /** Shows the re-auth dialog; resolves true once re-authenticated, false if dismissed. */
  reauth(): Promise<boolean>;
  /** Shows the lock screen; resolves true once unlocked, false if the admin signed out instead. */
  unlock(): Promise<boolean>;
}

function staleKind(e: unknown): 'reauth' | 'lock' | null {
  if (e instanceof BackendError) {
    if (e.code === 'reauth_required') return 'reauth';
    if (e.code === 'unauthenticated') return 'lock';
  }
  return null;
}

export async function withReauth<T>(action: () => Promise<T>, prompts: Prompts): Promise<T> {
  try {
    return await action();
  } catch (e) {
    const kind = staleKind(e);
    if (kind === null) throw e;
    const ok = kind === 'reauth' ? await prompts.reauth() : await prompts.unlock();
    if (!ok) throw new ActionCancelled();
    // One retry only: a second refusal is reported, not looped on.
    return await action();
  }
}
