/**
 * The models an output area can show: those of whichever kernel its session (a notebook's or
 * a console's) currently has.
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import { type ISignal, Signal } from '@lumino/signaling';

import type { Mirror } from '../core';
import { KernelModels } from './manager';

export class SessionModels {
  private current: KernelModels | null = null;
  private readonly added = new Signal<SessionModels, Mirror>(this);
  private readonly beforeSave = new Signal<SessionModels, void>(this);

  constructor(private readonly sessionContext: ISessionContext) {
    // A restart also fires kernelChanged (with the same connection): following it is harmless.
    sessionContext.kernelChanged.connect(this.follow, this);
    this.follow();
  }

  /** Emitted for every model of the current kernel that becomes known. */
  get modelAdded(): ISignal<SessionModels, Mirror> {
    return this.added;
  }

  /** Emitted just before the document is saved: views write their state into their outputs. */
  get saving(): ISignal<SessionModels, void> {
    return this.beforeSave;
  }

  /** Called when the document starts saving (a console has no document and never calls it). */
  willSave(): void {
    this.beforeSave.emit();
  }

  /**
   * The model, once the session has a kernel and that kernel's existing models are known;
   * null when it does not exist there (restarted kernel, closed model, another kernel's output).
   */
  async find(modelId: string): Promise<Mirror | null> {
    const known = this.current?.get(modelId);
    if (known !== undefined) {
      return known;
    }
    await this.sessionContext.ready;
    const models = this.current;
    if (models === null) {
      return null;
    }
    await models.ready;
    return models.get(modelId) ?? null;
  }

  /** The model if the current kernel's models are known to hold it (no waiting). */
  known(modelId: string): Mirror | undefined {
    return this.current?.get(modelId);
  }

  dispose(): void {
    this.sessionContext.kernelChanged.disconnect(this.follow, this);
    this.current?.modelAdded.disconnect(this.relay, this);
    this.current = null;
    Signal.clearData(this);
  }

  /** Registers the comm target on the session's kernel as soon as there is one. */
  private follow(): void {
    const kernel = this.sessionContext.session?.kernel ?? null;
    const next = kernel === null ? null : KernelModels.for(kernel);
    if (next === this.current) {
      return;
    }
    this.current?.modelAdded.disconnect(this.relay, this);
    this.current = next;
    next?.modelAdded.connect(this.relay, this);
  }

  private relay(_sender: KernelModels, mirror: Mirror): void {
    this.added.emit(mirror);
  }
}
