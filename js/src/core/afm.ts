/**
 * Running an anywidget front-end module (AFM) against a Mirror. Each view gets its own
 * proxy of the model so that everything the module listens to is removed with the view, and
 * its own AbortSignal, aborted when the view is removed.
 */

import { isObject } from './json';
import type { Listener } from './events';
import { type Invoke, invokerOf } from './invoke';
import { readInvokeReply } from './messages';
import { type AnyModel, anywidgetModel } from './anywidget';
import { MODEL_REF_PREFIX, type Mirror } from './mirror';

type Cleanup = unknown; // a function to call on disposal, an exports object, or nothing

/** `experimental`, as anywidget gives it to `initialize` and `render`. */
export interface Experimental {
  invoke: Invoke;
}

/** A child view's handle: what its `initialize` exported, and a way to render it. */
export interface ChildWidget {
  exports: unknown;
  /** Renders the child into `el` until `signal` aborts (by default, until the parent view goes). */
  render(options: { el: HTMLElement; signal?: AbortSignal }): Promise<void>;
}

/** `host`, given to `render`: resolves `"syncstate:<id>"` (or `"anywidget:<id>"`) references. */
export interface Host {
  getWidget(ref: string): Promise<ChildWidget>;
  getModel(ref: string): Promise<AnyModel>;
}

export interface InitializeContext {
  model: AnyModel;
  signal: AbortSignal;
  experimental: Experimental;
}

export interface RenderContext extends InitializeContext {
  el: HTMLElement;
  host: Host;
}

export interface AFM {
  initialize?: (context: InitializeContext) => Cleanup | Promise<Cleanup>;
  render?: (context: RenderContext) => Cleanup | Promise<Cleanup>;
}

export interface ViewOptions {
  /**
   * Set for a view of a saved state (no kernel): every edit, custom message and command is
   * refused, and reported here instead of being sent.
   */
  refuse?: (what: string) => void;
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

/** Strips a reference prefix: anywidget modules pass `"anywidget:<id>"`, syncstate sends `"syncstate:<id>"`. */
function modelIdOf(ref: string): string {
  if (typeof ref !== 'string' || ref === '') {
    throw new TypeError(`syncstate: ${JSON.stringify(ref)} is not a model reference`);
  }
  for (const prefix of [MODEL_REF_PREFIX, 'anywidget:']) {
    if (ref.startsWith(prefix)) {
      return ref.slice(prefix.length);
    }
  }
  return ref;
}

/**
 * The models as one view (or one initialization) sees them. Every listener it adds, on its
 * model or on child models reached through `widget_manager` or `host`, is registered under
 * this scope, so `dispose()` removes them all.
 */
export class ViewScope {
  private readonly mirrors = new Set<Mirror>();
  /** The listeners given to `on("msg:custom")`, wrapped so that command replies skip them. */
  private readonly customListeners = new Map<Listener, Listener>();

  constructor(private readonly options: ViewOptions = {}) {}

  model(mirror: Mirror): AnyModel {
    this.mirrors.add(mirror);
    const refuse = this.options.refuse;
    const refused = (what: string) => () => refuse?.(what);
    const model = anywidgetModel(mirror);
    return {
      get: key => model.get(key),
      set: refuse ? () => undefined : (key, value) => model.set(key, value),
      save_changes: refuse ? refused('save_changes') : () => model.save_changes(),
      patch: refuse ? refused('patch') : ops => mirror.patch(ops),
      send: refuse ? refused('send') : (content, callbacks, buffers) => model.send(content, callbacks, buffers),
      on: (event: string, cb: Listener) => mirror.on(event, this.listener(event, cb), this),
      off: (event?: string | null, cb?: Listener | null) =>
        mirror.off(event ?? null, cb ? (this.customListeners.get(cb) ?? cb) : null, this),
      onPath: (pointer, cb) => mirror.onPath(pointer, cb, this),
      widget_manager: {
        get_model: async id => this.model(await mirror.widget_manager.get_model(id))
      }
    };
  }

  experimental(mirror: Mirror): Experimental {
    const refuse = this.options.refuse;
    if (refuse) {
      return {
        invoke: name => {
          refuse(`invoke("${name}")`);
          return Promise.reject(new Error('syncstate: a saved view has no kernel to invoke'));
        }
      };
    }
    return { invoke: invokerOf(mirror) };
  }

  /** `host` for a view of `mirror`; children render until `signal` (the parent view's) aborts. */
  host(mirror: Mirror, signal: AbortSignal): Host {
    const childMirror = (ref: string): Promise<Mirror> => mirror.widget_manager.get_model(modelIdOf(ref));
    return {
      getModel: async ref => this.model(await childMirror(ref)),
      getWidget: async ref => {
        const child = await childMirror(ref);
        const afm = await viewModule(child);
        const { exports } = await initializeOnce(afm, child, this.options);
        return {
          exports,
          render: async ({ el, signal: childSignal = signal }) => {
            const remove = await renderView(afm, child, el, this.options);
            if (childSignal.aborted) {
              remove();
            } else {
              childSignal.addEventListener('abort', remove, { once: true });
            }
          }
        };
      }
    };
  }

  dispose(): void {
    this.mirrors.forEach(mirror => mirror.off(null, null, this));
    this.mirrors.clear();
    this.customListeners.clear();
  }

  private listener(event: string, cb: Listener): Listener {
    if (!event.split(/\s+/).includes('msg:custom')) {
      return cb;
    }
    const wrapped: Listener = (content: unknown, ...rest: unknown[]) => {
      if (readInvokeReply(content) === null) {
        cb(content, ...rest);
      }
    };
    this.customListeners.set(cb, wrapped);
    return wrapped;
  }
}

function runCleanup(cleanup: Cleanup): void {
  if (typeof cleanup === 'function') {
    cleanup();
  }
}

/**
 * The loaded `_esm` of each model, so that several views of one model share one module
 * instance; a new source (hot reload) replaces the entry.
 */
const modules = new WeakMap<Mirror, { source: string; module: Promise<AFM> }>();

/** The view module of a model, from its `_esm` field, loaded once per source. */
export function viewModule(mirror: Mirror, importer?: ModuleImporter): Promise<AFM> {
  const source = String(mirror.get('_esm') ?? '');
  let entry = modules.get(mirror);
  if (entry?.source !== source) {
    entry = { source, module: loadModule(source, importer) };
    modules.set(mirror, entry);
  }
  return entry.module;
}

interface Initialization {
  afm: AFM;
  /** Resolves to what `initialize` exported (an object it returned), once it has run. */
  ready: Promise<{ exports: unknown }>;
  dispose: () => void;
}

const initializations = new WeakMap<Mirror, Initialization>();

/**
 * Calls `initialize` once per mirror (again only if the module changed). Its listeners,
 * signal and cleanup live until the model closes or another module replaces this one. A
 * returned function is its cleanup; a returned object, its exports (anywidget's contract).
 */
function initializeOnce(afm: AFM, mirror: Mirror, options: ViewOptions): Promise<{ exports: unknown }> {
  const current = initializations.get(mirror);
  if (current?.afm === afm) {
    return current.ready;
  }
  current?.dispose();
  const scope = new ViewScope(options);
  const controller = new AbortController();
  const context = { model: scope.model(mirror), signal: controller.signal, experimental: scope.experimental(mirror) };
  let disposed = false;
  let cleanup: Cleanup;
  const dispose = (): void => {
    disposed = true;
    controller.abort();
    scope.dispose();
    runCleanup(cleanup);
  };
  const ready = (async () => {
    cleanup = await afm.initialize?.(context);
    if (disposed) {
      runCleanup(cleanup);
    }
    return { exports: isObject(cleanup) ? cleanup : undefined };
  })();
  mirror.on('close', dispose, scope);
  initializations.set(mirror, { afm, ready, dispose });
  return ready;
}

/**
 * Renders a view of `mirror` into `el`. Resolves to the function that removes the view:
 * it aborts the view's signal (and with it the child views it rendered), drops every
 * listener the module added through this view's models and calls the cleanup `render` returned.
 */
export async function renderView(afm: AFM, mirror: Mirror, el: HTMLElement, options: ViewOptions = {}): Promise<() => void> {
  await initializeOnce(afm, mirror, options);
  const scope = new ViewScope(options);
  const controller = new AbortController();
  const { signal } = controller;
  let cleanup: Cleanup;
  try {
    cleanup = await afm.render?.({
      model: scope.model(mirror),
      el,
      signal,
      host: scope.host(mirror, signal),
      experimental: scope.experimental(mirror)
    });
  } catch (error) {
    controller.abort();
    scope.dispose();
    throw error;
  }
  let removed = false;
  return () => {
    if (!removed) {
      removed = true;
      controller.abort();
      scope.dispose();
      runCleanup(cleanup);
    }
  };
}
