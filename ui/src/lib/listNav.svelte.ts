/**
 * The keyboard and scroll state of a virtualized list whose rows open in a drawer (the audit log, the
 * flags queue): which rows are in view, the keyboard cursor (arrows, Page Up/Down, Home/End), Enter to
 * open the row under the cursor, Escape to close the drawer and give the focus back to the list.
 */
import { keyTarget, scrollToReveal, visibleRange } from './usersPager';

export class ListNav<T> {
  cursor = $state(0);
  scrollTop = $state(0);
  viewportHeight = $state(600);
  viewport = $state<HTMLDivElement>();
  /** The row shown in the drawer. */
  open = $state<T | null>(null);

  readonly #row: number;
  readonly #items: () => readonly T[];

  /** The rows to render: those in view and a few either side. */
  readonly range = $derived.by(() =>
    visibleRange(this.scrollTop, this.viewportHeight, this.#row, this.#items().length),
  );

  constructor(rowHeight: number, items: () => readonly T[]) {
    this.#row = rowHeight;
    this.#items = items;
  }

  /** A new query: back to the top, nothing open. */
  reset(): void {
    this.cursor = 0;
    this.scrollTop = 0;
    this.open = null;
    if (this.viewport) this.viewport.scrollTop = 0;
  }

  onscroll = (): void => {
    this.scrollTop = this.viewport?.scrollTop ?? 0;
  };

  move(i: number): void {
    this.cursor = i;
    if (this.viewport) {
      const top = scrollToReveal(i, this.viewport.scrollTop, this.viewport.clientHeight, this.#row);
      if (top !== null) this.viewport.scrollTop = top;
    }
  }

  show(i: number): void {
    this.cursor = i;
    this.open = this.#items()[i] ?? null;
  }

  onkeydown = (e: KeyboardEvent): void => {
    const items = this.#items();
    const to = keyTarget(e.key, this.cursor, items.length, Math.floor(this.viewportHeight / this.#row) - 1);
    if (to !== null) {
      e.preventDefault();
      this.move(to);
      if (this.open) this.open = items[to] ?? null;
    } else if (e.key === 'Enter' && items[this.cursor]) {
      e.preventDefault();
      this.show(this.cursor);
    }
  };

  close(): void {
    this.open = null;
    this.viewport?.focus();
  }

  /** Escape closes the drawer while the list is on screen (`when` says so) and nothing else takes it. */
  escape(e: KeyboardEvent, when: boolean): void {
    if (e.key === 'Escape' && this.open && when) {
      e.preventDefault();
      this.close();
    }
  }
}
