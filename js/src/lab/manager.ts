/**
 * The models of one kernel: the `syncstate` comm target, one Mirror per model comm, the models
 * whose comms opened before this page existed, and the end of them all when the kernel goes.
 */
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import { type JSONObject, PromiseDelegate } from '@lumino/coreutils';
import { type ISignal, Signal } from '@lumino/signaling';

import {
  isStateMessage,
  Mirror,
  PATCH,
  PROTOCOL,
  readBuffers,
  readMethod,
  readOpen,
  readState,
  TARGET,
  writeSync
} from '../core';
import { sendToMainShell } from './channel';


/**
 * How long `ready` waits for the models that existed before this page. A kernel busy with a
 * long cell answers late; models that arrive after this still show up through `modelAdded`.
 */
const DISCOVERY_TIMEOUT_MS = 10_000;

/** Kernel statuses after which none of the kernel's models exist any more. */
const GONE_STATUSES: ReadonlySet<Kernel.Status> = new Set(['restarting', 'autorestarting', 'dead']);

type JsonObject = { [key: string]: unknown };

const instances = new WeakMap<Kernel.IKernelConnection, KernelModels>();
/** The models of each kernel (by id), from the one connection to it that handles comms. */
const byKernelId = new Map<string, KernelModels>();

/** One instance per kernel connection, shared by every panel that uses it. */
export class KernelModels {
  /**
   * The models of a kernel. JupyterLab lets only the first connection to a kernel handle comms
   * (a console opened on a notebook's kernel gets a connection that does not): such a
   * connection shows the models of the one that does, or none if there is none yet.
   */
  static for(kernel: Kernel.IKernelConnection): KernelModels | null {
    if (!kernel.handleComms) {
      return byKernelId.get(kernel.id) ?? null;
    }
    let models = instances.get(kernel);
    if (models === undefined) {
      models = new KernelModels(kernel);
      instances.set(kernel, models);
      byKernelId.set(kernel.id, models);
      kernel.disposed.connect(() => {
        if (byKernelId.get(kernel.id) === models) {
          byKernelId.delete(kernel.id);
        }
      });
    }
    return models;
  }

  private readonly mirrors = new Map<string, Mirror>();
  private readonly added = new Signal<KernelModels, Mirror>(this);
  private readonly discovered = new PromiseDelegate<void>();
  /** The session id of the kernel process the models live in (null until it has spoken). */
  private kernelSession: string | null = null;

  private constructor(private readonly kernel: Kernel.IKernelConnection) {
    // The target stays registered across restarts: the connection object outlives them.
    kernel.registerCommTarget(TARGET, (comm, msg) => this.onCommOpen(comm, msg));
    kernel.statusChanged.connect(this.onStatus, this);
    kernel.iopubMessage.connect(this.onIopub, this);
    kernel.disposed.connect(this.forgetAll, this);
    setTimeout(() => this.discovered.resolve(), DISCOVERY_TIMEOUT_MS);
    void this.discover().finally(() => this.discovered.resolve());
  }

  /** Emitted for every model that becomes known, whether by its comm_open or by discovery. */
  get modelAdded(): ISignal<KernelModels, Mirror> {
    return this.added;
  }

  /**
   * Resolves once every model that existed when this page connected is known (or the kernel did
   * not answer in time, or went away).
   */
  get ready(): Promise<void> {
    return this.discovered.promise;
  }

  get(modelId: string): Mirror | undefined {
    return this.mirrors.get(modelId);
  }

  private onCommOpen(comm: Kernel.IComm, msg: KernelMessage.ICommOpenMsg): void {
    // Throwing here would make JupyterLab close the comm, so a bad message is only reported.
    const data = msg.content.data;
    let opened;
    try {
      opened = readOpen(data, msg.buffers ?? []);
    } catch (error) {
      console.warn('syncstate: ignoring a comm_open with bad buffers', error);
      return;
    }
    if (opened === null) {
      console.warn(`syncstate: ignoring a comm_open that is not ${PROTOCOL}`, data);
      return;
    }
    this.kernelSession = msg.header.session;
    this.attach(comm, opened.state, opened.version);
  }

  private attach(comm: Kernel.IComm, state: JsonObject, version: number): void {
    const modelId = comm.commId;
    const mirror = new Mirror({
      modelId,
      state,
      version,
      send: (data, buffers) => {
        // After a restart or close the comm is disposed; the kernel has nothing to receive it.
        if (!comm.isDisposed) {
          sendToMainShell(this.kernel, modelId, data as JSONObject, buffers);
        }
      },
      getModel: id => this.childModel(id),
    });
    comm.onMsg = msg => mirror.handleMessage(msg.content.data, msg.buffers);
    comm.onClose = () => this.forget(modelId);
    this.mirrors.set(modelId, mirror);
    this.added.emit(mirror);
  }

  /** A referenced model: its comm opened before any message that refers to it. */
  private async childModel(modelId: string): Promise<Mirror> {
    const mirror = this.get(modelId);
    if (mirror === undefined) {
      throw new Error(`syncstate: model ${modelId} is not available`);
    }
    return mirror;
  }

  private forget(modelId: string): void {
    const mirror = this.mirrors.get(modelId);
    this.mirrors.delete(modelId);
    mirror?.handleClose();
  }

  /**
   * The kernel process is gone: so is every model, and any answer to an edit in flight. Their
   * comm objects are left to JupyterLab: disposing them here, in a page that did not see the
   * restart, would have it ask the new kernel to delete a subshell of the old one.
   */
  private forgetAll(): void {
    for (const modelId of [...this.mirrors.keys()]) {
      this.forget(modelId);
    }
    // Nothing is left to wait for: a restarted or dead kernel has no models.
    this.discovered.resolve();
  }

  private onStatus(_kernel: Kernel.IKernelConnection, status: Kernel.Status): void {
    if (GONE_STATUSES.has(status)) {
      this.forgetAll();
    }
  }

  /**
   * Notices a restart that another tab (or the server) made: this connection then sees no
   * `restarting` status, only messages from a kernel process with another session id. Only the
   * kernel's own busy/idle statuses count: the server writes some messages under its own id.
   */
  private onIopub(_kernel: Kernel.IKernelConnection, msg: KernelMessage.IIOPubMessage): void {
    if (msg.header.msg_type !== 'status') {
      return;
    }
    const state = (msg as KernelMessage.IStatusMsg).content.execution_state;
    if (state !== 'busy' && state !== 'idle') {
      return;
    }
    if (this.kernelSession !== null && msg.header.session !== this.kernelSession) {
      this.forgetAll();
    }
    this.kernelSession = msg.header.session;
  }

  /**
   * Finds the models whose comms opened before this page: `comm_info` lists their ids (its
   * reply reaches this page only, where a comm message would reach every tab), and each model
   * answers a `sync` with its state. A kernel without syncstate simply lists none.
   */
  private async discover(): Promise<void> {
    let reply: KernelMessage.ICommInfoReplyMsg;
    try {
      reply = await this.kernel.requestCommInfo({ target_name: TARGET });
    } catch {
      return; // comms are disabled on this connection, or the kernel went away
    }
    if (reply.content.status !== 'ok') {
      return;
    }
    this.kernelSession ??= reply.header.session;
    const known = Object.keys(reply.content.comms).filter(id => !this.kernel.hasComm(id));
    await Promise.all(known.map(id => this.adopt(id)));
  }

  /** Attaches to an existing comm once its model's state arrives; anything else is not a model. */
  private adopt(commId: string): Promise<void> {
    const comm = this.kernel.createComm(TARGET, commId);
    const settled = new PromiseDelegate<void>();
    comm.onMsg = msg => {
      const data = msg.content.data;
      if (isStateMessage(data)) {
        try {
          const { state, version } = readState(readBuffers(data, msg.buffers ?? []));
          this.attach(comm, state, version);
        } catch (error) {
          console.warn('syncstate: ignoring a bad model state', error);
          comm.dispose();
        }
        settled.resolve();
      } else if (readMethod(data) !== PATCH) {
        // Another page's request comm, which answers `sync` with an error: not ours to keep.
        comm.dispose();
        settled.resolve();
      }
      // Patches before the state are in it.
    };
    comm.onClose = () => settled.resolve();
    sendToMainShell(this.kernel, commId, writeSync() as JSONObject);
    return settled.promise;
  }
}
