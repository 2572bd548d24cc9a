/**
 * syncstate through a Jupyter widget manager, for frontends that have only that (Voila,
 * nbclassic, VS Code, Colab, JupyterLite, JupyterLab without the syncstate extension).
 *
 * This is the anywidget front-end module that the kernel puts in the `_esm` of a model's widget
 * comm (syncstate/widget.py). It carries `syncstate/1` messages, unchanged, as the widget's
 * custom messages, and renders the model's own view with the same core as the extension. It is
 * bundled on its own into one ES module (`jlpm build:widget`); docs/where-it-runs.md.
 */
import { type Binary, isObject, isStateMessage, loadModule, Mirror, renderView, writeSync } from '../core';

/** What this module uses of the model anywidget hands it (ipywidgets' model underneath). */
interface WidgetModel {
  get(key: string): unknown;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[]): void;
  on(event: string, callback: (content: unknown, buffers?: Binary[]) => void): void;
  readonly widget_manager: object;
}

type ViewModule = Awaited<ReturnType<typeof loadModule>>;

/**
 * One syncstate model as seen through one widget model. The kernel relays the model's traffic
 * to the widget comm only once asked (`sync`), and that happens when a view first renders: a
 * frontend that shows the model natively never asks, so nothing is sent twice.
 */
class Bridge {
  private mirror: Mirror | null = null;
  private readonly waiting: ((mirror: Mirror) => void)[] = [];
  private asked = false;
  private module: { source: string; loaded: Promise<ViewModule> } | null = null;

  constructor(private readonly widget: WidgetModel) {}

  /** The model, once the kernel has sent its state. */
  model(): Promise<Mirror> {
    if (this.mirror !== null) {
      return Promise.resolve(this.mirror);
    }
    if (!this.asked) {
      this.asked = true;
      this.widget.send(writeSync());
    }
    return new Promise(resolve => this.waiting.push(resolve));
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
    if (this.mirror !== null) {
      this.mirror.handleMessage(content, buffers);
    } else if (isStateMessage(content)) {
      this.start(content, buffers);
    }
    // Anything before the state is already in it.
  }

  close(): void {
    this.mirror?.handleClose();
  }

  private start(content: Record<string, unknown>, buffers: Binary[]): void {
    // The state message itself goes through the mirror, which puts its buffers in place.
    const mirror = new Mirror({
      modelId: String(this.widget.get('syncstate_id')),
      state: {},
      version: -1,
      send: (data, out) => this.widget.send(data, undefined, out),
    });
    mirror.handleMessage(content, buffers);
    this.mirror = mirror;
    this.waiting.splice(0).forEach(resolve => resolve(mirror));
  }
}

/** Each widget manager's bridges, by syncstate model id (a page may hold several managers). */
const bridges = new WeakMap<object, Map<string, Bridge>>();

function bridgesOf(model: WidgetModel): Map<string, Bridge> {
  let known = bridges.get(model.widget_manager);
  if (known === undefined) {
    known = new Map();
    bridges.set(model.widget_manager, known);
  }
  return known;
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
    notice('syncstate: this model is not available any more — it was closed, or the kernel restarted.');
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
    const bridge = new Bridge(model);
    const known = bridgesOf(model);
    const modelId = String(model.get('syncstate_id'));
    known.set(modelId, bridge);
    model.on('msg:custom', (content, buffers) => bridge.receive(content, buffers));
    return () => {
      bridge.close();
      if (known.get(modelId) === bridge) {
        known.delete(modelId);
      }
    };
  },

  async render({ model, el }: { model: WidgetModel; el: HTMLElement }): Promise<() => void> {
    const bridge = bridgesOf(model).get(String(model.get('syncstate_id')));
    if (bridge === undefined) {
      throw new Error('syncstate: this widget was not initialized');
    }
    return mountView(bridge, await bridge.model(), el);
  },
};
