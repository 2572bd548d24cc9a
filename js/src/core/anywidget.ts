/**
 * The anywidget model API over a Mirror (anywidget's model-proxy idea): what a view module gets
 * as `model`. The mirror (mirror.ts) is the protocol's algorithm, the same as the Python
 * `Mirror`; this file adds only the anywidget way of editing, `set(key, value)` remembered
 * until `save_changes()` turns the values into one edit, and `send(content, callbacks,
 * buffers)`. ViewScope (afm.ts) wraps it once more per view, so a view's listeners go with it.
 */

import type { Listener } from './events';
import type { Binary } from './json';
import { type Mirror, fieldDiff, refusePrivate } from './mirror';
import type { Operation } from './patch';

/** What a view module gets as `model`: the anywidget model API plus `patch` and `onPath`. */
export interface AnyModel {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  save_changes(): void;
  patch(ops: Operation[]): void;
  send(content: unknown, callbacks?: unknown, buffers?: (ArrayBuffer | DataView)[]): void;
  on(event: string, cb: Listener): void;
  off(event?: string | null, cb?: Listener | null): void;
  onPath(pointer: string, cb: (value: unknown) => void): () => void;
  readonly widget_manager: { get_model(id: string): Promise<AnyModel> };
}

/** The values `set` on one model and not yet saved, shared by all its views (as in anywidget). */
export class AnywidgetModel {
  private readonly unsaved = new Map<string, unknown>();

  constructor(readonly mirror: Mirror) {}

  /** A field of the visible state, or its value `set` but not yet saved. */
  get(key: string): unknown {
    return this.unsaved.has(key) ? this.unsaved.get(key) : this.mirror.get(key);
  }

  /** Remembered until `save_changes()`. */
  set(key: string, value: unknown): void {
    this.mirror.assertOpen();
    refusePrivate(key);
    this.unsaved.set(key, value);
  }

  /** Turns the values given to `set` into one edit (by diff against the visible state). */
  save_changes(): void {
    this.mirror.assertOpen();
    const target = Object.fromEntries(this.unsaved);
    const fields = [...this.unsaved.keys()];
    this.unsaved.clear();
    this.mirror.patch(fieldDiff(this.mirror.state, target, fields));
  }

  /** A custom message to the kernel's `on_msg` handlers. `callbacks` are not supported (no replies). */
  send(content: unknown, _callbacks?: unknown, buffers: Binary[] = []): void {
    this.mirror.sendCustom(content, buffers);
  }
}

const models = new WeakMap<Mirror, AnywidgetModel>();

/** The one AnywidgetModel of a mirror. */
export function anywidgetModel(mirror: Mirror): AnywidgetModel {
  let model = models.get(mirror);
  if (!model) {
    model = new AnywidgetModel(mirror);
    models.set(mirror, model);
  }
  return model;
}
