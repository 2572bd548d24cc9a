/**
 * Running an anywidget front-end module (AFM) against a Mirror. Each view gets its own
 * proxy of the model so that everything the module listens to is removed with the view.
 */

import { isObject } from './json';
import type { Listener } from './events';
import type { AnyModel, Mirror } from './mirror';

type Cleanup = unknown; // a function to call on disposal, or anything else (ignored)

export interface AFM {
  initialize?: (context: { model: AnyModel }) => Cleanup | Promise<Cleanup>;
  render?: (context: { model: AnyModel; el: HTMLElement }) => Cleanup | Promise<Cleanup>;
}

/** Evaluates module source text and returns its namespace. */
export type ModuleImporter = (source: string) => Promise<Record<string, unknown>>;

/** The browser way: a Blob URL, imported natively (bundlers are told to leave the import alone). */
export async function importFromBlob(source: string): Promise<Record<string, unknown>> {
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  try {
    return await import(/* webpackIgnore: true */ /* @vite-ignore */ url);
  } finally {
    URL.revokeObjectURL(url);
  }
}

function asFunction<F>(value: unknown): F | undefined {
  return typeof value === 'function' ? (value as F) : undefined;
}

/**
 * Loads an AFM from source. Accepted shapes: `export default {render, initialize}`,
 * `export default () => ({render, initialize})` (possibly async), or named exports.
 */
export async function loadModule(source: string, importer: ModuleImporter = importFromBlob): Promise<AFM> {
  const namespace = await importer(source);
  const main = typeof namespace.default === 'function' ? await namespace.default() : namespace.default;
  const exports = isObject(main) ? main : namespace;
  const afm: AFM = { initialize: asFunction(exports.initialize), render: asFunction(exports.render) };
  if (!afm.initialize && !afm.render) {
    throw new TypeError('The module exports neither "render" nor "initialize"');
  }
  return afm;
}

/**
 * The models as one view (or one initialization) sees them. Every listener it adds, on its
 * model or on child models reached through `widget_manager`, is registered under this
 * scope, so `dispose()` removes them all.
 */
export class ViewScope {
  private readonly mirrors = new Set<Mirror>();

  model(mirror: Mirror): AnyModel {
    this.mirrors.add(mirror);
    return {
      get: key => mirror.get(key),
      set: (key, value) => mirror.set(key, value),
      save_changes: () => mirror.save_changes(),
      patch: ops => mirror.patch(ops),
      send: (content, callbacks, buffers) => mirror.send(content, callbacks, buffers),
      on: (event: string, cb: Listener) => mirror.on(event, cb, this),
      off: (event?: string | null, cb?: Listener | null) => mirror.off(event ?? null, cb ?? null, this),
      onPath: (pointer, cb) => mirror.onPath(pointer, cb, this),
      widget_manager: {
        get_model: async id => this.model(await mirror.widget_manager.get_model(id))
      }
    };
  }

  dispose(): void {
    this.mirrors.forEach(mirror => mirror.off(null, null, this));
    this.mirrors.clear();
  }
}

function runCleanup(cleanup: Cleanup): void {
  if (typeof cleanup === 'function') {
    cleanup();
  }
}

interface Initialization {
  afm: AFM;
  ready: Promise<void>;
  dispose: () => void;
}

const initializations = new WeakMap<Mirror, Initialization>();

/**
 * Calls `initialize` once per mirror (again only if the module changed). Its listeners and
 * cleanup live until the model closes or another module replaces this one.
 */
function initializeOnce(afm: AFM, mirror: Mirror): Promise<void> {
  const current = initializations.get(mirror);
  if (current?.afm === afm) {
    return current.ready;
  }
  current?.dispose();
  const scope = new ViewScope();
  const model = scope.model(mirror);
  let disposed = false;
  let cleanup: Cleanup;
  const dispose = (): void => {
    disposed = true;
    scope.dispose();
    runCleanup(cleanup);
  };
  const ready = (async () => {
    cleanup = await afm.initialize?.({ model });
    if (disposed) {
      runCleanup(cleanup);
    }
  })();
  mirror.on('close', dispose, scope);
  initializations.set(mirror, { afm, ready, dispose });
  return ready;
}

/**
 * Renders a view of `mirror` into `el`. Resolves to the function that removes the view:
 * it drops every listener the module added through this view's models and calls the
 * cleanup `render` returned.
 */
export async function renderView(afm: AFM, mirror: Mirror, el: HTMLElement): Promise<() => void> {
  await initializeOnce(afm, mirror);
  const scope = new ViewScope();
  let cleanup: Cleanup;
  try {
    cleanup = await afm.render?.({ model: scope.model(mirror), el });
  } catch (error) {
    scope.dispose();
    throw error;
  }
  let removed = false;
  return () => {
    if (!removed) {
      removed = true;
      scope.dispose();
      runCleanup(cleanup);
    }
  };
}
