/**
 * The models of one kernel: the `syncstate` comm target, one Mirror per model comm, and the
 * `list` request that finds the models whose comms opened before this page existed.
 */
import { CommsOverSubshells, type Kernel, type KernelMessage } from '@jupyterlab/services';
import { PromiseDelegate, UUID } from '@lumino/coreutils';
import { type ISignal, Signal } from '@lumino/signaling';

import { Mirror, putBuffers } from '../core';

export const COMM_TARGET = 'syncstate';
export const PROTOCOL = 'syncstate/1';

/**
 * How long `ready` waits for the answer to `list`. A kernel busy with a long cell answers late;
 * models that arrive after this still show up through `modelAdded`.
 */
const LIST_TIMEOUT_MS = 10_000;

/** Kernel statuses after which none of the kernel's models exist any more. */
const GONE_STATUSES: ReadonlySet<Kernel.Status> = new Set(['restarting', 'autorestarting', 'dead']);

type Buffers = KernelMessage.ICommMsgMsg['buffers'];
type JsonObject = { [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Puts a message's binary buffers back where its `buffer_paths` say; throws if they do not fit. */
function withBuffers(data: JsonObject, buffers: Buffers): JsonObject {
  return putBuffers(data, data['buffer_paths'] ?? [], buffers ?? []);
}

const instances = new WeakMap<Kernel.IKernelConnection, KernelModels>();

/** One instance per kernel connection, shared by every notebook panel that uses it. */
export class KernelModels {
  static for(kernel: Kernel.IKernelConnection): KernelModels {
    let models = instances.get(kernel);
    if (models === undefined) {
      models = new KernelModels(kernel);
      instances.set(kernel, models);
    }
    return models;
  }

  private readonly mirrors = new Map<string, Mirror>();
  private readonly added = new Signal<KernelModels, Mirror>(this);
  private readonly listed = new PromiseDelegate<void>();

  private constructor(private readonly kernel: Kernel.IKernelConnection) {
    // The target stays registered across restarts: the connection object outlives them.
    kernel.registerCommTarget(COMM_TARGET, (comm, msg) => this.onCommOpen(comm, msg));
    kernel.statusChanged.connect(this.onStatus, this);
    kernel.disposed.connect(this.forgetAll, this);
    this.requestList();
  }

  /** Emitted for every model that becomes known, whether by its comm_open or by `list`. */
  get modelAdded(): ISignal<KernelModels, Mirror> {
    return this.added;
  }

  /**
   * Resolves once every model that existed when this page connected is known (or the kernel did
   * not answer in time, or went away).
   */
  get ready(): Promise<void> {
    return this.listed.promise;
  }

  get(modelId: string): Mirror | undefined {
    return this.mirrors.get(modelId);
  }

  private onCommOpen(comm: Kernel.IComm, msg: KernelMessage.ICommOpenMsg): void {
    // Throwing here would make JupyterLab close the comm, so a bad message is only reported.
    const data = msg.content.data;
    if (data['protocol'] !== PROTOCOL || data['method'] !== 'open' || !isObject(data['state'])) {
      console.warn(`syncstate: ignoring a comm_open that is not ${PROTOCOL}`, data);
      return;
    }
    try {
      withBuffers(data, msg.buffers);
    } catch (error) {
      console.warn('syncstate: ignoring a comm_open with bad buffers', error);
      return;
    }
    this.attach(comm, data['state'], Number(data['version'] ?? 0));
  }

  private attach(comm: Kernel.IComm, state: JsonObject, version: number): void {
    onMainShell(comm);
    const modelId = comm.commId;
    const mirror = new Mirror({
      modelId,
      state,
      version,
      send: (data, buffers) => {
        // After a restart or close the comm is disposed; the kernel has nothing to receive it.
        if (!comm.isDisposed) {
          comm.send(data as KernelMessage.ICommMsgMsg['content']['data'], undefined, buffers);
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
    const mirror = this.mirrors.get(modelId);
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

  private forgetAll(): void {
    for (const modelId of [...this.mirrors.keys()]) {
      this.forget(modelId);
    }
    // Nothing is left to wait for: a restarted or dead kernel has no models.
    this.listed.resolve();
  }

  private onStatus(_kernel: Kernel.IKernelConnection, status: Kernel.Status): void {
    if (GONE_STATUSES.has(status)) {
      this.forgetAll();
    }
  }

  /**
   * Asks the kernel for its live models on a control comm. A kernel where syncstate is not
   * imported refuses the comm (closes it at once): then it simply has no models.
   */
  private requestList(): void {
    const request = UUID.uuid4();
    let comm: Kernel.IComm;
    try {
      comm = this.kernel.createComm(COMM_TARGET);
      onMainShell(comm);
    } catch {
      // Comms are disabled on this connection: no model can ever arrive on it.
      this.listed.resolve();
      return;
    }
    const timer = setTimeout(() => this.listed.resolve(), LIST_TIMEOUT_MS);
    const settle = () => {
      clearTimeout(timer);
      this.listed.resolve();
    };
    comm.onMsg = msg => {
      const data = msg.content.data;
      if (data['request'] !== request) {
        return;
      }
      if (data['method'] === 'models') {
        try {
          this.attachListed(withBuffers(data, msg.buffers));
        } catch (error) {
          console.warn('syncstate: ignoring a model list with bad buffers', error);
        }
      } else {
        console.warn('syncstate: the kernel could not list its models', data);
      }
      settle();
      // One question, one answer: free the kernel side of the control comm.
      if (!comm.isDisposed) {
        comm.close();
      }
    };
    comm.onClose = settle;
    comm.open({ protocol: PROTOCOL, method: 'list', request });
  }

  /** Attaches to the existing comms of listed models, continuing from their versions. */
  private attachListed(data: JsonObject): void {
    const models = data['models'];
    if (!isObject(models)) {
      return;
    }
    for (const [modelId, entry] of Object.entries(models)) {
      // A model whose comm_open reached this page is already attached.
      if (!isObject(entry) || !isObject(entry['state']) || this.kernel.hasComm(modelId)) {
        continue;
      }
      // A comm created with a known id and never opened receives and sends on that id.
      this.attach(
        this.kernel.createComm(COMM_TARGET, modelId),
        entry['state'],
        Number(entry['version'] ?? 0)
      );
    }
  }
}

/**
 * JupyterLab 4.6 sends comm messages to a kernel subshell (another thread) by default. The
 * kernel applies edits atomically and in order, between the user's cells, so our comms stay on
 * the main shell; other extensions' comms keep their own setting.
 */
function onMainShell(comm: Kernel.IComm): void {
  comm.commsOverSubshells = CommsOverSubshells.Disabled;
}
