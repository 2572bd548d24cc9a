/**
 * Backbone-style events, as anywidget modules expect: `on(names, cb, context)` and
 * `off(names?, cb?, context?)`, where every given argument narrows what is removed.
 * The context lets a view drop all of its listeners at once with `off(null, null, view)`.
 */

/** Listeners take whatever their event carries. */
export type Listener = (...args: any[]) => void;

interface Registration {
  cb: Listener;
  context: unknown;
}

/** Several events may be named at once, separated by spaces ("change:a change:b"). */
function eventNames(event: string): string[] {
  return event.split(/\s+/).filter(Boolean);
}

export class Emitter {
  private readonly listeners = new Map<string, Registration[]>();

  on(event: string, cb: Listener, context?: unknown): void {
    for (const name of eventNames(event)) {
      this.listeners.set(name, [...(this.listeners.get(name) ?? []), { cb, context }]);
    }
  }

  off(event?: string | null, cb?: Listener | null, context?: unknown): void {
    const names = event ? eventNames(event) : [...this.listeners.keys()];
    for (const name of names) {
      const kept = (this.listeners.get(name) ?? []).filter(
        r => (cb != null && r.cb !== cb) || (context != null && r.context !== context)
      );
      if (kept.length) {
        this.listeners.set(name, kept);
      } else {
        this.listeners.delete(name);
      }
    }
  }

  /**
   * Calls the listeners registered when the event was emitted. A failing listener (one
   * view's bug) is reported and does not stop the others.
   */
  protected emit(event: string, ...args: unknown[]): void {
    for (const { cb, context } of this.listeners.get(event) ?? []) {
      try {
        cb.apply(context ?? this, args);
      } catch (error) {
        console.error(`syncstate: a "${event}" listener failed`, error);
      }
    }
  }
}
