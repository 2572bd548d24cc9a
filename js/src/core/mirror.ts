/**
 * The frontend copy of one kernel model (docs/protocol.md). The kernel is the authority:
 * the mirror keeps the *confirmed* state (as of the last kernel message) and its own
 * *pending* edits, and shows the *visible* state = confirmed + pending replayed on top.
 *
 * Cost follows the change: with nothing pending, visible IS confirmed and kernel ops are
 * applied once, in place. With edits pending, visible is a shallow copy of confirmed that
 * owns deep copies of just the fields those edits touch.
 */

import { MessageError, putBuffers, takeBuffers, toArrayBuffer, toDataView } from './buffers';
import { Emitter, type Listener } from './events';
import { type Binary, isObject, jsonClone, setOwn } from './json';
import { checkLimits } from './limits';
import {
  type Operation,
  PatchError,
  affects,
  applyPatch,
  changedPointers,
  diff,
  formatPointer,
  interferes,
  parsePointer,
  pointersOf,
  resolve,
  validateOperation
} from './patch';

/** How a model held in a field is referenced in the state. */
export const MODEL_REF_PREFIX = 'syncstate:';

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

export interface MirrorOptions {
  modelId: string;
  /** The state at `version`; the mirror takes it over (it is mutated in place later). */
  state: Record<string, unknown>;
  version: number;
  /** Sends to the kernel over the comm; binary values are already taken out into `buffers`. */
  send: (data: Record<string, unknown>, buffers?: ArrayBuffer[]) => void;
  clientId?: string;
  /** Resolves a model id (from a `syncstate:<id>` reference) to its mirror. */
  getModel?: (modelId: string) => Promise<Mirror>;
}

/** What the `error` event carries. `id` is the rejected edit's, or null for a sync problem. */
export interface MirrorError {
  id: string | null;
  code: string;
  message: string;
}

interface Edit {
  id: string;
  /** The confirmed version the edit was made on (moved up by "rebase when nothing moved"). */
  base: number;
  ops: Operation[];
  /** The top-level fields the ops read or write. */
  fields: Set<string>;
  sent: boolean;
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
}

/** The top-level fields `ops` touch; `onRoot` makes the error for an op on the whole document. */
function fieldsOf(ops: readonly Operation[], onRoot: () => Error): Set<string> {
  const fields = new Set<string>();
  for (const pointer of ops.flatMap(pointersOf)) {
    const field = parsePointer(pointer)[0];
    if (field === undefined) {
      throw onRoot();
    }
    fields.add(field);
  }
  return fields;
}

function refusePrivate(field: string): void {
  if (field.startsWith('_')) {
    throw new PatchError('forbidden', `Field ${JSON.stringify(field)} is private: only the kernel writes it`);
  }
}

/** Operations that turn the given fields of `before` into those of `after`. */
function fieldDiff(before: Record<string, unknown>, after: Record<string, unknown>, fields: Iterable<string>): Operation[] {
  const ops: Operation[] = [];
  for (const field of fields) {
    const path = formatPointer([field]);
    const had = Object.hasOwn(before, field);
    const has = Object.hasOwn(after, field);
    if (had && has) {
      ops.push(...diff(before[field], after[field], path));
    } else if (had) {
      ops.push({ op: 'remove', path });
    } else if (has) {
      ops.push({ op: 'add', path, value: after[field] });
    }
  }
  return ops;
}

/** Appends `op` to a queued edit; a replace right after a write to the same path supersedes its value (a dragged slider sends one op). */
function combine(ops: Operation[], op: Operation): void {
  const last = ops[ops.length - 1];
  if (op.op === 'replace' && last && last.path === op.path && (last.op === 'replace' || last.op === 'add')) {
    ops[ops.length - 1] = { ...last, value: op.value };
  } else {
    ops.push(op);
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every(item => typeof item === 'string');
}

export class Mirror extends Emitter implements AnyModel {
  readonly modelId: string;
  readonly clientId: string;
  readonly widget_manager: { get_model(id: string): Promise<Mirror> };

  private readonly sendToKernel: MirrorOptions['send'];
  private readonly getModel: MirrorOptions['getModel'];
  private confirmedVersion: number;
  private confirmed: Record<string, unknown>;
  private visible: Record<string, unknown>;
  /** Fields of `visible` that are its own copies; the others are shared with `confirmed`. */
  private owned = new Set<string>();
  /** Own edits not yet answered, in order; only the last may be unsent, later edits are combined into it. */
  private pending: Edit[] = [];
  /** The id of the edit awaiting its answer (even if replay dropped it locally). */
  private inFlight: string | null = null;
  /** A `sync` is out; kernel patches are ignored until the `state` reply. */
  private syncing = false;
  private readonly unsaved = new Map<string, unknown>();
  private editCount = 0;
  private isClosed = false;

  constructor(options: MirrorOptions) {
    super();
    this.modelId = options.modelId;
    this.clientId = options.clientId ?? randomId();
    this.confirmed = this.visible = options.state;
    this.confirmedVersion = options.version;
    this.sendToKernel = options.send;
    this.getModel = options.getModel;
    this.widget_manager = { get_model: id => this.resolveModel(id) };
  }

  /** The last confirmed kernel version. */
  get version(): number {
    return this.confirmedVersion;
  }

  /** The visible state. Treat it as read-only: edit with `patch` or `set`. */
  get state(): Readonly<Record<string, unknown>> {
    return this.visible;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** A field of the visible state, or its value `set` but not yet saved. */
  get(key: string): unknown {
    if (this.unsaved.has(key)) {
      return this.unsaved.get(key);
    }
    return Object.hasOwn(this.visible, key) ? this.visible[key] : undefined;
  }

  // ---------------------------------------------------------------- local edits

  /**
   * An optimistic edit: applied to the visible state now (or not at all: a PatchError
   * leaves everything as it was), then sent, or combined into the next message if an edit
   * is already awaiting its answer.
   */
  patch(ops: Operation[]): void {
    this.assertOpen();
    this.refuseOverLimits(ops);
    const edit = jsonClone(ops); // replayed later: the caller may go on mutating its objects
    edit.forEach(validateOperation);
    const fields = fieldsOf(edit, () => new PatchError('forbidden', 'An edit cannot replace the whole state'));
    fields.forEach(refusePrivate);
    if (!edit.length) {
      return;
    }
    this.own(fields);
    try {
      applyPatch(this.visible, edit);
    } catch (error) {
      if (!this.pending.length) {
        this.shareAll();
      }
      throw error;
    }
    this.enqueue(edit, fields);
    this.emitChange(edit);
    this.flush();
  }

  /** An edit the kernel would refuse (or never answer) is reported and thrown, never sent. */
  private refuseOverLimits(ops: Operation[]): void {
    try {
      checkLimits(ops);
    } catch (error) {
      if (error instanceof PatchError) {
        this.emit('error', { id: null, code: error.code, message: error.message });
      }
      throw error;
    }
  }

  /** anywidget style: remembered until `save_changes()`. */
  set(key: string, value: unknown): void {
    this.assertOpen();
    refusePrivate(key);
    this.unsaved.set(key, value);
  }

  /** Turns the values given to `set` into one edit (by diff against the visible state). */
  save_changes(): void {
    this.assertOpen();
    const target = Object.fromEntries(this.unsaved);
    const fields = [...this.unsaved.keys()];
    this.unsaved.clear();
    this.patch(fieldDiff(this.visible, target, fields));
  }

  /** A custom message to the kernel's `on_msg` handlers. `callbacks` are not supported (no replies). */
  send(content: unknown, _callbacks?: unknown, buffers: Binary[] = []): void {
    this.assertOpen();
    this.post({ method: 'custom', content }, buffers.map(toArrayBuffer));
  }

  /** Calls `cb` with the new value whenever the visible state changes at, under or above `pointer`. */
  onPath(pointer: string, cb: (value: unknown) => void, context?: unknown): () => void {
    const target = parsePointer(pointer);
    const listener = (ops: Operation[]): void => {
      if (ops.some(op => affects(op, target))) {
        cb(this.valueAt(target));
      }
    };
    this.on('change', listener, context);
    return () => this.off('change', listener);
  }

  // ---------------------------------------------------------------- from the kernel

  handleMessage(data: Record<string, unknown>, buffers: readonly Binary[] = []): void {
    if (this.isClosed) {
      return;
    }
    try {
      if (!isObject(data)) {
        throw new MessageError('A message must be an object');
      }
      if (data.method !== 'custom' || data.buffer_paths !== undefined) {
        putBuffers(data, data.buffer_paths ?? [], buffers);
      }
      switch (data.method) {
        case 'patch':
          return this.onPatch(data);
        case 'reject':
          return this.onReject(data);
        case 'state':
          return this.onState(data);
        case 'custom':
          return this.emit('msg:custom', data.content, buffers.map(toDataView));
        default:
          throw new MessageError(`Unknown method ${JSON.stringify(data.method)}`);
      }
    } catch (error) {
      if (!(error instanceof MessageError)) {
        throw error;
      }
      this.resync(error.code, error.message);
    }
  }

  /**
   * The comm closed, or the kernel restarted or died: no answer will come, so every edit still
   * waiting for one is reported (`closed`) before `close`.
   */
  handleClose(): void {
    if (this.isClosed) {
      return;
    }
    this.isClosed = true;
    for (const edit of this.pending) {
      const error: MirrorError = {
        id: edit.id,
        code: 'closed',
        message: 'The model is no longer available (closed, or its kernel restarted): this edit got no answer.'
      };
      this.emit('error', error);
    }
    this.pending = [];
    this.inFlight = null;
    this.emit('close');
    this.off();
  }

  private onPatch(message: Record<string, unknown>): void {
    const { version, ops, ack = [] } = message;
    if (typeof version !== 'number' || !Number.isInteger(version) || !Array.isArray(ops) || !isStringArray(ack)) {
      throw new MessageError('A patch needs an integer "version", an "ops" list and an "ack" list of ids');
    }
    try {
      ops.forEach(validateOperation);
      fieldsOf(ops, () => new PatchError('bad_path', 'A kernel patch cannot replace the whole state'));
    } catch (error) {
      throw new MessageError((error as Error).message);
    }
    if (this.syncing || version !== this.confirmedVersion + 1) {
      // The state we ask for (or asked for) includes this version: only learn which of our
      // edits it answers, or they would wait for an answer forever.
      this.settle(ack);
      if (!this.syncing) {
        this.resync('out_of_sync', `Expected version ${this.confirmedVersion + 1}, got ${version}`);
      }
      return;
    }
    const fields = this.diffedFields(ops);
    const before = this.snapshot(fields);
    try {
      applyPatch(this.confirmed, ops);
    } catch (error) {
      if (!(error instanceof PatchError)) {
        throw error;
      }
      this.resync('out_of_sync', `Kernel patch ${version} does not apply: ${error.message}`);
      return;
    }
    this.confirmedVersion = version;
    if (this.inFlight !== null && ack.includes(this.inFlight)) {
      this.inFlight = null;
    }
    this.pending = this.pending.filter(edit => !ack.includes(edit.id));
    this.replay();
    // Fields no pending edit involves changed exactly as the kernel says; the others by diff.
    const direct = ops.filter(op => !pointersOf(op).some(p => fields.has(parsePointer(p)[0])));
    const change = [...direct, ...fieldDiff(before, this.visible, fields)];
    for (const edit of this.pending) {
      // Rebase when nothing it touches moved: the edit means the same on the new state.
      if (!edit.sent && edit.base === version - 1 && !interferes(change, edit.ops)) {
        edit.base = version;
      }
    }
    this.emitChange(change);
    this.flush();
  }

  /** A rejection names the kernel's current version: a different one means we missed a patch. */
  private checkVersion(version: unknown): void {
    if (!this.syncing && typeof version === 'number' && version !== this.confirmedVersion) {
      this.resync('out_of_sync', `Rejection at version ${version}, but this frontend has ${this.confirmedVersion}`);
    }
  }

  /** Drops the edits that `ack` answers, without applying the patch that carried it. */
  private settle(ack: readonly string[]): void {
    if (!this.pending.some(edit => ack.includes(edit.id)) && !ack.includes(this.inFlight ?? '')) {
      return;
    }
    const before = this.visible;
    const fields = new Set(this.owned);
    if (this.inFlight !== null && ack.includes(this.inFlight)) {
      this.inFlight = null;
    }
    this.pending = this.pending.filter(edit => !ack.includes(edit.id));
    this.replay();
    this.emitChange(fieldDiff(before, this.visible, fields));
    this.flush();
  }

  private onReject(message: Record<string, unknown>): void {
    const { id, code, message: text, version } = message;
    if (!(id === null || typeof id === 'string') || typeof code !== 'string') {
      throw new MessageError('A reject needs an "id" (string or null) and a "code"');
    }
    if (id !== null && !id.startsWith(`${this.clientId}:`)) {
      this.checkVersion(version); // another frontend's edit: nothing of ours changes
      return;
    }
    const before = this.visible;
    const fields = this.owned;
    // A rejection takes its followers with it: unsent edits were made on top of the rejected one.
    const followers = id === this.inFlight ? this.pending.filter(edit => !edit.sent) : [];
    if (id === this.inFlight) {
      this.inFlight = null;
    }
    this.pending = this.pending.filter(edit => edit.id !== id && !followers.includes(edit));
    this.replay();
    this.emitChange(fieldDiff(before, this.visible, fields));
    const error: MirrorError = { id, code, message: typeof text === 'string' ? text : code };
    this.emit('error', error);
    followers.forEach(edit => this.emitDropped(edit, `it was made on top of the rejected edit ${id}`));
    this.checkVersion(version);
    this.flush();
  }

  private onState(message: Record<string, unknown>): void {
    const { version, state } = message;
    if (typeof version !== 'number' || !Number.isInteger(version) || !isObject(state)) {
      throw new MessageError('A state needs an integer "version" and a "state" object');
    }
    if (!this.syncing && version <= this.confirmedVersion) {
      return; // the reply to another frontend's sync: nothing new
    }
    const before = this.visible;
    this.confirmed = state;
    this.confirmedVersion = version;
    this.syncing = false;
    this.replay(); // an edit still in flight stays so: its answer is on the way
    this.emitChange(fieldDiff(before, this.visible, new Set([...Object.keys(before), ...Object.keys(this.visible)])));
    this.flush();
  }

  // ---------------------------------------------------------------- confirmed / pending / visible

  /** Makes `visible` own copies of `fields`, so that edits there do not reach `confirmed`. */
  private own(fields: Iterable<string>): void {
    if (this.visible === this.confirmed) {
      this.visible = { ...this.confirmed };
    }
    for (const field of fields) {
      if (!this.owned.has(field)) {
        this.owned.add(field);
        if (Object.hasOwn(this.confirmed, field)) {
          setOwn(this.visible, field, jsonClone(this.confirmed[field]));
        }
      }
    }
  }

  private shareAll(): void {
    this.visible = this.confirmed;
    this.owned = new Set();
  }

  /** Rebuilds visible state from confirmed state and the pending edits; those that no longer apply are dropped. */
  private replay(): void {
    this.shareAll();
    const dropped: Edit[] = [];
    this.pending = this.pending.filter(edit => {
      this.own(edit.fields);
      try {
        applyPatch(this.visible, edit.ops);
        return true;
      } catch (error) {
        if (!(error instanceof PatchError)) {
          throw error;
        }
        dropped.push(edit);
        return false;
      }
    });
    // A sent edit dropped here still gets its answer from the kernel; an unsent one never
    // will, so it is reported now rather than lost silently.
    dropped.filter(edit => !edit.sent).forEach(edit => this.emitDropped(edit, 'it no longer applies to the kernel state'));
    if (!this.pending.length) {
      this.shareAll();
    }
  }

  /**
   * The fields whose visible change must be found by diff: those pending edits touch, plus
   * any field a kernel op ties to them (a move or copy across fields).
   */
  private diffedFields(ops: readonly Operation[]): Set<string> {
    const fields = new Set(this.owned);
    for (let grown = fields.size > 0; grown; ) {
      grown = false;
      for (const op of ops) {
        const touched = pointersOf(op).map(p => parsePointer(p)[0]);
        if (touched.some(f => fields.has(f)) && !touched.every(f => fields.has(f))) {
          touched.forEach(f => fields.add(f));
          grown = true;
        }
      }
    }
    return fields;
  }

  /** The visible values of `fields`, safe from the coming in-place change of `confirmed`. */
  private snapshot(fields: Set<string>): Record<string, unknown> {
    const copy: Record<string, unknown> = {};
    for (const field of fields) {
      if (Object.hasOwn(this.visible, field)) {
        const value = this.visible[field];
        setOwn(copy, field, this.owned.has(field) ? value : jsonClone(value));
      }
    }
    return copy;
  }

  private enqueue(ops: Operation[], fields: Set<string>): void {
    const last = this.pending[this.pending.length - 1];
    if (last && !last.sent) {
      ops.forEach(op => combine(last.ops, op));
      fields.forEach(field => last.fields.add(field));
    } else {
      // a copy: later edits are combined into it, and `ops` also went to change listeners
      const id = `${this.clientId}:${++this.editCount}`;
      const combined: Operation[] = [];
      ops.forEach(op => combine(combined, op));
      this.pending.push({ id, base: this.confirmedVersion, ops: combined, fields, sent: false });
    }
  }

  /** Sends the queued edit if nothing is awaiting an answer. */
  private flush(): void {
    const next = this.pending.find(edit => !edit.sent);
    if (this.syncing || this.inFlight !== null || this.isClosed || !next) {
      return;
    }
    next.sent = true;
    this.inFlight = next.id;
    const { data, buffer_paths, buffers } = takeBuffers({
      method: 'patch',
      id: next.id,
      base: next.base,
      ops: next.ops
    });
    this.post(buffers.length ? { ...data, buffer_paths } : data, buffers);
  }

  private emitDropped(edit: Edit, why: string): void {
    const error: MirrorError = { id: edit.id, code: 'dropped', message: `Edit not sent: ${why}` };
    this.emit('error', error);
  }

  /** Asks the kernel for the whole state (done by itself when it misses a message). */
  requestSync(): void {
    if (!this.syncing) {
      this.syncing = true;
      this.post({ method: 'sync' });
    }
  }

  private resync(code: string, message: string): void {
    this.requestSync();
    const error: MirrorError = { id: null, code, message };
    this.emit('error', error);
  }

  private post(data: Record<string, unknown>, buffers: ArrayBuffer[] = []): void {
    if (buffers.length) {
      this.sendToKernel(data, buffers);
    } else {
      this.sendToKernel(data);
    }
  }

  /** Emits `change:<field>` for each changed field, then `change` with the ops; nothing for no change. */
  private emitChange(ops: Operation[]): void {
    if (!ops.length) {
      return;
    }
    const fields = new Set(ops.flatMap(changedPointers).map(p => parsePointer(p)[0]));
    for (const field of fields) {
      this.emit(`change:${field}`, this.get(field));
    }
    this.emit('change', ops);
  }

  private valueAt(segments: string[]): unknown {
    try {
      return resolve(this.visible, segments);
    } catch {
      return undefined;
    }
  }

  private resolveModel(id: string): Promise<Mirror> {
    if (!this.getModel) {
      return Promise.reject(new Error(`No model resolver to find ${id}`));
    }
    return this.getModel(id.startsWith(MODEL_REF_PREFIX) ? id.slice(MODEL_REF_PREFIX.length) : id);
  }

  private assertOpen(): void {
    if (this.isClosed) {
      throw new Error(`Model ${this.modelId} is closed`);
    }
  }
}
