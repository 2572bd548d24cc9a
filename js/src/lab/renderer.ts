/**
 * The output renderer for `application/vnd.syncstate.view+json`: finds the model, loads its
 * `_esm` view module, injects its `_css`, and keeps the view in step with the model's lifetime.
 * When no kernel has the model, the output's saved state (if any) renders read-only, marked as
 * not live; before each save of the document, live views write their state into the output.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { Widget } from '@lumino/widgets';

import {
  describeError,
  MIME_TYPE,
  type Mirror,
  PROTOCOL,
  refusedText,
  renderView,
  savedMirror,
  savedNotice,
  type SavedState,
  saveState,
  shortId,
  showBanner,
  viewModule,
  type ViewOptions,
} from '../core';
import type { SessionModels } from './session';


export function rendererFactory(models: SessionModels): IRenderMime.IRendererFactory {
  return {
    // Safe, so untrusted outputs (a notebook reopened from disk) render too. A live view's code
    // comes from the live kernel's model, which the user's own code created; an untrusted file
    // can at most name such a model, and ids are random UUIDs. A saved state's `_esm` comes from
    // the file itself, so it renders only in a trusted notebook (`showSaved`).
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
  /** The output this view renders (its data is rewritten with the state on save). */
  private mimeModel: IRenderMime.IMimeModel | null = null;
  /** The model this output names; null until the first renderModel. */
  private modelId: string | null = null;
  private mirror: Mirror | null = null;
  /** Whether `mirror` is a saved state rather than a live model. */
  private isSaved = false;
  /** The element the current view renders into; a fresh one per mount. */
  private el: HTMLElement | null = null;
  private cleanup: (() => void) | null = null;
  /** Grows with every mount and teardown, so that a slow load of an older one is dropped. */
  private generation = 0;

  constructor(private readonly models: SessionModels) {
    super();
    this.addClass('syncstate-view');
    this.banners.className = 'syncstate-banners';
    this.notice.className = 'syncstate-notice';
    this.node.append(this.banners, this.notice, this.style);
    models.saving.connect(this.writeState, this);
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.mimeModel = model;
    const data = model.data[MIME_TYPE] as SavedState | undefined;
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
    // A kernel that was busy when this page loaded may still list the model later.
    this.models.modelAdded.connect(this.onModelAdded, this);
    if (mirror !== null) {
      await this.attach(mirror);
    } else if (!(await this.showSaved(data))) {
      this.showMissing();
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.detach();
    this.models.saving.disconnect(this.writeState, this);
    super.dispose();
  }

  private onModelAdded(_sender: SessionModels, mirror: Mirror): void {
    if (mirror.modelId === this.modelId) {
      this.detach();
      void this.attach(mirror);
    }
  }

  private async attach(mirror: Mirror): Promise<void> {
    this.models.modelAdded.disconnect(this.onModelAdded, this);
    this.mirror = mirror;
    this.isSaved = false;
    this.setNotice('');
    mirror.on('change:_esm', () => void this.mount(), this);
    mirror.on('change:_css', () => this.applyCss(), this);
    mirror.on('error', (error: unknown) => showBanner(this.banners, describeError(error)), this);
    mirror.on('close', () => this.onClose(), this);
    this.applyCss();
    await this.mount();
  }

  /**
   * Renders the output's saved state, read-only, when it has one and may run its code (a
   * trusted output: the `_esm` comes from the file). False when there is nothing to show.
   */
  private async showSaved(data: SavedState): Promise<boolean> {
    const mirror = this.mimeModel?.trusted ? savedMirror(this.modelId ?? '', data) : null;
    if (mirror === null) {
      return false;
    }
    this.mirror = mirror;
    this.isSaved = true;
    this.addClass('syncstate-saved');
    this.setNotice(savedNotice(mirror.modelId, mirror.version));
    this.applyCss();
    await this.mount({ refuse: what => showBanner(this.banners, refusedText(what)) });
    return true;
  }

  /** Before the document is saved: the output keeps the live model's current state. */
  private writeState(): void {
    const model = this.mimeModel;
    if (this.mirror === null || this.isSaved || model === null) {
      return;
    }
    const { model_id, protocol } = model.data[MIME_TYPE] as SavedState;
    const saved = { model_id, protocol, ...saveState(this.mirror, id => this.models.known(id)) } as ReadonlyPartialJSONObject;
    model.setData({ data: { ...model.data, [MIME_TYPE]: saved } });
  }

  /** Renders the view afresh from the model's current `_esm`. */
  private async mount(options: ViewOptions = {}): Promise<void> {
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
      const cleanup = await renderView(await viewModule(mirror), mirror, el, options);
      if (generation === this.generation) {
        this.cleanup = cleanup;
      } else {
        cleanup();
      }
    } catch (error) {
      if (generation === this.generation) {
        showBanner(this.banners, `The view failed to render: ${describeError(error)}`);
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
    this.isSaved = false;
    this.removeClass('syncstate-saved');
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
}
