/**
 * syncstate through a Jupyter widget manager, for frontends that have only that (Voila,
 * nbclassic, VS Code, Colab, JupyterLite, JupyterLab without the syncstate extension).
 *
 * This is the anywidget front-end module that the kernel puts in the `_esm` of a model's widget
 * comm (syncstate/widget.py). It carries `syncstate/1` messages, unchanged, as the widget's
 * custom messages, and renders the model's own view with the same core as the extension. It is
 * bundled on its own into one ES module (`jlpm build:widget`); docs/where-it-runs.md.
 */
import {
  type Binary,
  isObject,
  isStateMessage,
  loadModule,
  Mirror,
  readChildAnswer,
  renderView,
  type ChildAnswer,
  writeChild,
  writeSync
} from '../core';

/** What this module uses of the model anywidget hands it (ipywidgets' model underneath). */
export interface WidgetModel {
  get(key: string): unknown;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[]): void;
  on(event: string, callback: (content: unknown, buffers?: Binary[]) => void): void;
  readonly widget_manager: object;
}

type ViewModule = Awaited<ReturnType<typeof loadModule>>;

/**
 * How long a child model's widget may take to start in this page once the kernel has opened
 * it (its `comm_open` arrives before the answer, so only the page's own work is left).
 */
export const CHILD_WIDGET_TIMEOUT_MS = 30_000;

const GONE = 'syncstate: this model is not available any more — it was closed, or the kernel restarted.';

/**
 * One syncstate model as seen through one widget model. The kernel relays the model's traffic
 * to the widget comm only once asked (`sync`), and that happens when a view first renders: a
 * frontend that shows the model natively never asks, so nothing is sent twice.
 */
export class Bridge {
  private mirror: Mirror | null = null;
  /** The views waiting for the state, once it has been asked for. */
  private waiting: Waiters<Mirror> | null = null;
  private module: { source: string; loaded: Promise<ViewModule> } | null = null;
  /** Child model requests awaiting the kernel's `child` answer, by model id. */
  private readonly children = new Map<string, Waiters<void>>();
  private closed = false;
  /** Rejected when the widget closes: requests waiting for a child's widget stop waiting. */
  private readonly gone = new Waiters<never>();

  constructor(
    private readonly widget: WidgetModel,
    private readonly registry: Registry
  ) {
    this.gone.promise.catch(() => {}); // nobody may be waiting: not an unhandled rejection
  }

  /** The model, once the kernel has sent its state. */
  model(): Promise<Mirror> {
    if (this.mirror !== null) {
      return Promise.resolve(this.mirror);
    }
    if (this.closed) {
      return Promise.reject(new Error(GONE));
    }
    if (this.waiting === null) {
      this.waiting = new Waiters();
      this.widget.send(writeSync());
    }
    return this.waiting.promise;
  }

  /** The view module of the model's current `_esm`, shared by its views (as in the extension). */
  viewModule(mirror: Mirror): Promise<ViewModule> {
    const source = String(mirror.get('_esm') ?? '');
    if (this.module?.source !== source) {
      this.module = { source, loaded: loadModule(source) };
    }
    return this.module.loaded;
  }

  receive(content: unknown, buffers: Binary[] = []): void {
    if (!isObject(content)) {
      return;
    }
    const answer = readChildAnswer(content);
    if (answer !== null) {
      this.childAnswered(answer);
    } else if (this.mirror !== null) {
      this.mirror.handleMessage(content, buffers);
    } else if (isStateMessage(content)) {
      this.start(content, buffers);
    }
    // Anything before the state is already in it.
  }

  /**
   * A model this one refers to (`"syncstate:<id>"`): the kernel opens its widget, whose
   * `initialize` registers its bridge, and then answers; a known bridge is used as it is.
   */
  async child(modelId: string): Promise<Mirror> {
    if (this.closed) {
      throw new Error(GONE);
    }
    if (!this.registry.bridges.has(modelId)) {
      let asked = this.children.get(modelId);
      if (asked === undefined) {
        asked = new Waiters();
        this.children.set(modelId, asked);
        this.widget.send(writeChild(modelId));
      }
      await asked.promise;
    }
    const started = this.registry.bridge(modelId, CHILD_WIDGET_TIMEOUT_MS);
    return (await Promise.race([started, this.gone.promise])).model();
  }

  private childAnswered({ modelId, widget, message }: ChildAnswer): void {
    const asked = this.children.get(modelId);
    this.children.delete(modelId);
    if (widget !== null) {
      asked?.resolve();
    } else {
      asked?.reject(new Error(message));
    }
  }

  /** The widget closed: whatever still waits on it is told, rather than left waiting. */
  close(): void {
    this.closed = true;
    const gone = new Error(GONE);
    this.gone.reject(gone);
    this.waiting?.reject(gone);
    this.children.forEach(asked => asked.reject(gone));
    this.children.clear();
    this.mirror?.handleClose();
  }

  private start(content: Record<string, unknown>, buffers: Binary[]): void {
    // The state message itself goes through the mirror, which puts its buffers in place.
    const mirror = new Mirror({
      modelId: String(this.widget.get('syncstate_id')),
      state: {},
      version: -1,
      send: (data, out) => this.widget.send(data, undefined, out),
      getModel: id => this.child(id)
    });
    mirror.handleMessage(content, buffers);
    this.mirror = mirror;
    this.waiting?.resolve(mirror);
  }
}

/** A promise with its resolve and reject at hand. */
class Waiters<T> {
  resolve!: (value: T) => void;
  reject!: (error: Error) => void;
  readonly promise = new Promise<T>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}

/** One widget manager's bridges, by syncstate model id. */
class Registry {
  readonly bridges = new Map<string, Bridge>();
  /** Who waits for a bridge not made yet, by model id. */
  private readonly waiting = new Map<string, Set<(bridge: Bridge) => void>>();

  add(modelId: string, bridge: Bridge): void {
    this.bridges.set(modelId, bridge);
    this.waiting.get(modelId)?.forEach(found => found(bridge));
    this.waiting.delete(modelId);
  }

  remove(modelId: string, bridge: Bridge): void {
    if (this.bridges.get(modelId) === bridge) {
      this.bridges.delete(modelId);
    }
  }

  /** The model's bridge, once its widget has been initialized (within `timeoutMs`). */
  bridge(modelId: string, timeoutMs: number): Promise<Bridge> {
    const known = this.bridges.get(modelId);
    if (known !== undefined) {
      return Promise.resolve(known);
    }
    return new Promise((resolve, reject) => {
      const waiting = this.waiting.get(modelId) ?? new Set();
      this.waiting.set(modelId, waiting);
      const found = (bridge: Bridge): void => {
        clearTimeout(timer);
        resolve(bridge);
      };
      const timer = setTimeout(() => {
        waiting.delete(found);
        if (waiting.size === 0) {
          this.waiting.delete(modelId);
        }
        reject(new Error(`syncstate: the widget of model ${modelId} did not start in this page within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      waiting.add(found);
    });
  }
}

/**
 * The registries of the page, one per widget manager (a page may hold several). Kept on
 * `globalThis`: anywidget imports this module afresh for every widget, and a model's children
 * are other widgets' bridges.
 */
const REGISTRIES = Symbol.for('syncstate.widget-registries');

function registryOf(model: WidgetModel): Registry {
  const page = globalThis as { [REGISTRIES]?: WeakMap<object, Registry> };
  const registries = (page[REGISTRIES] ??= new WeakMap());
  let registry = registries.get(model.widget_manager);
  if (registry === undefined) {
    registry = new Registry();
    registries.set(model.widget_manager, registry);
  }
  return registry;
}

/** The bridge that `initialize` made for this widget model, if it ran. */
export function bridgeOf(model: WidgetModel): Bridge | undefined {
  return registryOf(model).bridges.get(String(model.get('syncstate_id')));
}

function describe(error: unknown): string {
  const { code, message } = (isObject(error) ? error : {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(error);
  return typeof code === 'string' ? `${code}: ${text}` : text;
}

/** Shows the model's view in `el`, following its `_esm` and `_css`; returns its removal. */
function mountView(bridge: Bridge, mirror: Mirror, el: HTMLElement): () => void {
  const style = document.createElement('style');
  const notices = document.createElement('div');
  notices.className = 'syncstate-banners';
  const host = document.createElement('div');
  host.className = 'syncstate-host';
  // The extension's class, plus one that tells this path apart.
  el.classList.add('syncstate-view', 'syncstate-widget');
  el.append(notices, style, host);
  const scope = {};
  let removeView = (): void => {};
  let generation = 0;

  const notice = (text: string): void => {
    const line = document.createElement('div');
    line.className = 'syncstate-error';
    line.setAttribute('role', 'alert');
    line.textContent = text;
    notices.append(line);
  };
  const unmount = (): void => {
    generation += 1;
    removeView();
    removeView = () => {};
    host.replaceChildren();
  };
  const mount = async (): Promise<void> => {
    unmount();
    const mine = generation;
    const target = document.createElement('div');
    host.append(target);
    try {
      const remove = await renderView(await bridge.viewModule(mirror), mirror, target);
      if (mine === generation) {
        removeView = remove;
      } else {
        remove();
      }
    } catch (error) {
      notice(`The view failed to render: ${describe(error)}`);
    }
  };
  const applyCss = (): void => {
    style.textContent = String(mirror.get('_css') ?? '');
  };

  mirror.on('change:_esm', () => void mount(), scope);
  mirror.on('change:_css', applyCss, scope);
  mirror.on('error', (error: unknown) => notice(describe(error)), scope);
  mirror.on('close', () => {
    unmount();
    notice(GONE);
  }, scope);
  applyCss();
  void mount();
  return () => {
    unmount();
    mirror.off(null, null, scope);
  };
}

export default {
  /** Once per widget model: its bridge listens for the kernel's messages for as long as it lives. */
  initialize({ model }: { model: WidgetModel }): () => void {
    const registry = registryOf(model);
    const bridge = new Bridge(model, registry);
    const modelId = String(model.get('syncstate_id'));
    registry.add(modelId, bridge);
    model.on('msg:custom', (content, buffers) => bridge.receive(content, buffers));
    return () => {
      bridge.close();
      registry.remove(modelId, bridge);
    };
  },

  async render({ model, el }: { model: WidgetModel; el: HTMLElement }): Promise<() => void> {
    const bridge = bridgeOf(model);
    if (bridge === undefined) {
      throw new Error('syncstate: this widget was not initialized');
    }
    return mountView(bridge, await bridge.model(), el);
  },
};
