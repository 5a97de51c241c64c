/**
 * The console's one piece of shared state: which database is open, who is signed in, and the prompts that
 * can interrupt any screen (the lock screen, the re-auth dialog, toasts, the error banner).
 */
import * as backend from './backend';
import type { Connected, Me } from './backend';
import { isCancelled, routeError } from './errors';
import { withReauth } from './reauth';

export type Phase = 'starting' | 'connect' | 'signin' | 'shell';

export interface Toast {
  id: number;
  text: string;
}

const CONNECTED_KEY = 'warden.connected';

class ConsoleState {
  phase = $state<Phase>('starting');
  connected = $state<Connected | null>(null);
  me = $state<Me | null>(null);
  /** The lock screen is up: the session ended or went idle; the screen beneath is kept. */
  locked = $state(false);
  lockCause = $state<'idle' | 'server'>('server');
  reauthOpen = $state(false);
  /** Once the server has asked for a code on re-authentication, the field is shown straight away. */
  reauthNeedsCode = $state(false);
  toasts = $state<Toast[]>([]);
  banner = $state<string | null>(null);
  /** Open suspicious-activity flags as the overview or the flags screen last counted them, lowered as
   *  the console closes one; shown beside Flags in the navigation. */
  openFlags = $state<number | null>(null);

  #unlockWaiters: ((ok: boolean) => void)[] = [];
  #reauthWaiters: ((ok: boolean) => void)[] = [];
  #toastSeq = 0;

  /** One open flag fewer (the console just closed it). */
  closedFlag(): void {
    if (this.openFlags !== null) this.openFlags = Math.max(0, this.openFlags - 1);
  }

  /** Picks up where a reloaded window left off, else shows the connect screen. */
  async start(): Promise<void> {
    const saved = sessionStorage.getItem(CONNECTED_KEY);
    if (saved) {
      try {
        const current = await backend.me();
        this.connected = JSON.parse(saved) as Connected;
        if (current) {
          this.me = current;
          this.phase = 'shell';
        } else {
          this.phase = 'signin';
        }
        return;
      } catch {
        sessionStorage.removeItem(CONNECTED_KEY);
      }
    }
    this.phase = 'connect';
  }

  setConnected(c: Connected, goToSignIn: boolean): void {
    this.connected = c;
    sessionStorage.setItem(CONNECTED_KEY, JSON.stringify(c));
    if (goToSignIn) this.phase = 'signin';
  }

  async disconnect(): Promise<void> {
    try {
      await backend.disconnect();
    } catch (e) {
      this.showError(e);
    }
    sessionStorage.removeItem(CONNECTED_KEY);
    this.connected = null;
    this.me = null;
    this.phase = 'connect';
  }

  signedIn(me: Me): void {
    this.me = me;
    this.locked = false;
    this.phase = 'shell';
  }

  /** Ends the console session and returns to the sign-in screen; pending prompts resolve as cancelled. */
  async signOut(): Promise<void> {
    try {
      await backend.signOut();
    } catch {
      // Already ended on the server side: nothing left to undo.
    }
    this.me = null;
    this.locked = false;
    this.reauthOpen = false;
    this.#settle(this.#unlockWaiters, false);
    this.#settle(this.#reauthWaiters, false);
    this.phase = this.connected ? 'signin' : 'connect';
  }

  /** Shows the lock screen; resolves true once unlocked, false if the admin signed out. */
  lock(cause: 'idle' | 'server'): Promise<boolean> {
    if (!this.locked) this.lockCause = cause;
    this.locked = true;
    return new Promise((resolve) => this.#unlockWaiters.push(resolve));
  }

  unlocked(me: Me): void {
    this.me = me;
    this.locked = false;
    this.#settle(this.#unlockWaiters, true);
  }

  askReauth(): Promise<boolean> {
    this.reauthOpen = true;
    return new Promise((resolve) => this.#reauthWaiters.push(resolve));
  }

  reauthFinished(me: Me | null): void {
    if (me) this.me = me;
    this.reauthOpen = false;
    this.#settle(this.#reauthWaiters, me !== null);
  }

  /** Runs a command, handling a stale console session by prompting and retrying once. */
  run<T>(action: () => Promise<T>): Promise<T> {
    return withReauth(action, { reauth: () => this.askReauth(), unlock: () => this.lock('server') });
  }

  toast(text: string): void {
    const id = ++this.#toastSeq;
    this.toasts = [...this.toasts, { id, text }];
    setTimeout(() => this.dismissToast(id), 4500);
  }

  dismissToast(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  /** For errors with no form to show them: lock on a dead session, else the banner. */
  showError(e: unknown): void {
    if (isCancelled(e)) return;
    const r = routeError(e);
    if (r.kind === 'lock') void this.lock('server');
    else if (r.kind === 'reauth') void this.askReauth();
    else this.banner = r.message;
  }

  #settle(waiters: ((ok: boolean) => void)[], ok: boolean): void {
    for (const w of waiters.splice(0)) w(ok);
  }
}

export const app = new ConsoleState();

/**
 * Escape on a page opened from a list goes back to the list, unless a dialog, the lock screen or the
 * re-authentication prompt is open, or the page has an action of its own in progress (`busy`).
 */
export function backOnEscape(e: KeyboardEvent, busy: boolean, onback: () => void): void {
  if (e.key !== 'Escape' || busy || app.locked || app.reauthOpen) return;
  if (document.querySelector('dialog[open]')) return;
  e.preventDefault();
  onback();
}
