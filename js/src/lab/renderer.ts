/**
 * The output renderer for `application/vnd.syncstate.view+json`: finds the model, loads its
 * `_esm` view module, injects its `_css`, and keeps the view in step with the model's lifetime.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { loadModule, type Mirror, renderView } from '../core';
import { PROTOCOL } from './manager';
import type { NotebookModels } from './session';

export const MIME_TYPE = 'application/vnd.syncstate.view+json';

/** Errors shown at once above a view; older ones give way to newer ones. */
const MAX_BANNERS = 5;

type ViewModule = Awaited<ReturnType<typeof loadModule>>;

/**
 * The loaded `_esm` of each model, so that several views of one model share one module
 * instance; a new source (hot reload) replaces the entry.
 */
const modules = new WeakMap<Mirror, { source: string; module: Promise<ViewModule> }>();

function moduleOf(mirror: Mirror): Promise<ViewModule> {
  const source = String(mirror.get('_esm') ?? '');
  let entry = modules.get(mirror);
  if (entry?.source !== source) {
    entry = { source, module: loadModule(source) };
    modules.set(mirror, entry);
  }
  return entry.module;
}

function shortId(modelId: string): string {
  return modelId.length > 8 ? `${modelId.slice(0, 8)}…` : modelId;
}

function describeError(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : String(error);
    return typeof code === 'string' ? `${code}: ${text}` : text;
  }
  return String(error);
}

export function rendererFactory(models: NotebookModels): IRenderMime.IRendererFactory {
  return {
    // Safe, so untrusted outputs (a notebook reopened from disk) render too. The output data is
    // only a model id: the view's code comes from the live kernel's model, which the user's own
    // code created. An untrusted file can at most name such a model, and ids are random UUIDs.
    safe: true,
    mimeTypes: [MIME_TYPE],
    defaultRank: 0,
    createRenderer: () => new SyncstateView(models),
  };
}

class SyncstateView extends Widget implements IRenderMime.IRenderer {
  private readonly banners = document.createElement('div');
  private readonly notice = document.createElement('div');
  private readonly style = document.createElement('style');
  /** The model this output names; null until the first renderModel. */
  private modelId: string | null = null;
  private mirror: Mirror | null = null;
  /** The element the current view renders into; a fresh one per mount. */
  private el: HTMLElement | null = null;
  private cleanup: (() => void) | null = null;
  /** Grows with every mount and teardown, so that a slow load of an older one is dropped. */
  private generation = 0;

  constructor(private readonly models: NotebookModels) {
    super();
    this.addClass('syncstate-view');
    this.banners.className = 'syncstate-banners';
    this.notice.className = 'syncstate-notice';
    this.node.append(this.banners, this.notice, this.style);
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[MIME_TYPE] as { model_id?: unknown; protocol?: unknown } | undefined;
    const modelId = typeof data?.model_id === 'string' ? data.model_id : '';
    if (modelId === this.modelId) {
      return;
    }
    this.detach();
    this.modelId = modelId;
    if (data?.protocol !== PROTOCOL || modelId === '') {
      this.setNotice(`syncstate: this output is not a ${PROTOCOL} view.`);
      return;
    }
    this.setNotice(`syncstate: waiting for model ${shortId(modelId)}`);
    const mirror = await this.models.find(modelId);
    if (this.isDisposed || this.modelId !== modelId) {
      return;
    }
    if (mirror === null) {
      this.showMissing();
      // A kernel that was busy when this page loaded may still list the model later.
      this.models.modelAdded.connect(this.onModelAdded, this);
      return;
    }
    await this.attach(mirror);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.detach();
    super.dispose();
  }

  private onModelAdded(_sender: NotebookModels, mirror: Mirror): void {
    if (mirror.modelId === this.modelId) {
      void this.attach(mirror);
    }
  }

  private async attach(mirror: Mirror): Promise<void> {
    this.models.modelAdded.disconnect(this.onModelAdded, this);
    this.mirror = mirror;
    this.setNotice('');
    mirror.on('change:_esm', () => void this.mount(), this);
    mirror.on('change:_css', () => this.applyCss(), this);
    mirror.on('error', (error: unknown) => this.showBanner(describeError(error)), this);
    mirror.on('close', () => this.onClose(), this);
    this.applyCss();
    await this.mount();
  }

  /** Renders the view afresh from the model's current `_esm`. */
  private async mount(): Promise<void> {
    const mirror = this.mirror;
    if (mirror === null) {
      return;
    }
    this.unmount();
    const generation = this.generation;
    const el = document.createElement('div');
    el.className = 'syncstate-host';
    this.node.append(el);
    this.el = el;
    try {
      const cleanup = await renderView(await moduleOf(mirror), mirror, el);
      if (generation === this.generation) {
        this.cleanup = cleanup;
      } else {
        cleanup();
      }
    } catch (error) {
      if (generation === this.generation) {
        this.showBanner(`The view failed to render: ${describeError(error)}`);
      }
    }
  }

  private unmount(): void {
    this.generation += 1;
    const cleanup = this.cleanup;
    this.cleanup = null;
    this.el?.remove();
    this.el = null;
    if (cleanup !== null) {
      try {
        cleanup();
      } catch (error) {
        console.error('syncstate: a view failed to clean up', error);
      }
    }
  }

  /** Drops the view and every listener this output holds, keeping the notice and banners. */
  private detach(): void {
    this.unmount();
    this.mirror?.off(null, null, this);
    this.mirror = null;
    this.models.modelAdded.disconnect(this.onModelAdded, this);
    this.style.textContent = '';
  }

  private onClose(): void {
    this.detach();
    this.showMissing();
  }

  private applyCss(): void {
    this.style.textContent = String(this.mirror?.get('_css') ?? '');
  }

  private showMissing(): void {
    this.setNotice(
      `syncstate: model ${shortId(this.modelId ?? '')} is not available — the kernel was restarted ` +
        'or the model was closed. Re-run the cell.'
    );
  }

  private setNotice(text: string): void {
    this.notice.textContent = text;
    this.notice.hidden = text === '';
  }

  private showBanner(text: string): void {
    const banner = document.createElement('div');
    banner.className = 'syncstate-error';
    banner.setAttribute('role', 'alert');
    const message = document.createElement('span');
    message.textContent = text;
    const dismiss = document.createElement('button');
    dismiss.className = 'syncstate-error-dismiss';
    dismiss.title = 'Dismiss';
    dismiss.textContent = '×';
    dismiss.onclick = () => banner.remove();
    banner.append(message, dismiss);
    this.banners.append(banner);
    while (this.banners.childElementCount > MAX_BANNERS) {
      this.banners.firstElementChild?.remove();
    }
  }
}
