/**
 * The frontend copy of one kernel model (docs/protocol.md). The kernel is the authority:
 * the mirror keeps the *confirmed* state (as of the last kernel message) and its own
 * *pending* edits, and shows the *visible* state = confirmed + pending replayed on top.
 *
 * Cost follows the change: there is one document, the visible state. Pending edits are applied
 * to it in place with undo logs, so the confirmed state is the visible one with those logs
 * undone. A kernel patch undoes the pending edits, applies its ops, and redoes the edits still
 * pending: O(ops), never a copy of a field. The change it reports is found by comparing only
 * the places those ops touch (docs/design.md, "Pending edits without copies").
 */

import { MessageError, toArrayBuffer, toDataView } from './buffers';
import { Emitter } from './events';
import { type Binary, jsonClone, jsonEqual } from './json';
import { checkLimits } from './limits';
import {
  type Operation,
  PatchError,
  type Undo,
  affects,
  applyLogged,
  applyPatch,
  changedPointers,
  diff,
  formatPointer,
  interferes,
  overlaps,
  parsePointer,
  pointersOf,
  resolve,
  undoAll,
  validateOperation
} from './patch';
import {
  type KernelPatch,
  type ModelState,
  type Rejection,
  hasBufferPaths,
  readBuffers,
  readCustom,
  readMethod,
  readPatch,
  readReject,
  readState,
  writeCustom,
  writeEdit,
  writeSync
} from './messages';
import { BAD_PATH, CLOSED, CUSTOM, DROPPED, FORBIDDEN, OUT_OF_SYNC, PATCH, REF_PREFIX, REJECT, STATE } from './protocol';

/** How a model held in a field is referenced in the state. */
export const MODEL_REF_PREFIX = REF_PREFIX;

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
  /** Undoes `ops` as they were applied to the visible state. */
  undo: Undo[];
}

const ARRAY_INDEX = /^(0|[1-9][0-9]*|-)$/;

/** Whether `op` inserts or removes at an array index (moving the later elements), or moves. */
function shifts(op: Operation): boolean {
  if (op.op === 'move') {
    return true;
  }
  const last = op.path.slice(op.path.lastIndexOf('/') + 1);
  return (op.op === 'add' || op.op === 'remove' || op.op === 'copy') && ARRAY_INDEX.test(last);
}

/** Whether an insert or removal at `at` moves what `other` points at (a later element or inside one). */
function movesUnder(at: readonly string[], other: readonly string[]): boolean {
  const depth = at.length - 1;
  if (depth < 0 || other.length <= depth || !at.slice(0, depth).every((s, i) => s === other[i])) {
    return false;
  }
  const index = at[depth];
  const target = other[depth];
  return index !== '-' && (target === '-' || (ARRAY_INDEX.test(target) && Number(target) >= Number(index)));
}

/** An op with its pointers parsed and whether it shifts array elements, for `commutesParsed`. */
interface ParsedOp {
  pointers: string[][];
  shifts: boolean;
}

/** Parsed once per op object (a kernel op is parsed when checked, a pending op when made, not on every patch). */
const parsedOps = new WeakMap<Operation, ParsedOp>();

function parsedOp(op: Operation): ParsedOp {
  let parsed = parsedOps.get(op);
  if (parsed === undefined) {
    parsed = { pointers: pointersOf(op).map(parsePointer), shifts: shifts(op) };
    parsedOps.set(op, parsed);
  }
  return parsed;
}

/** Whether two ops touch disjoint places that neither moves: applied in either order, each does the same. */
function commutesParsed(x: ParsedOp, y: ParsedOp): boolean {
  return x.pointers.every(px =>
    y.pointers.every(py => !overlaps(px, py) && !(x.shifts && movesUnder(px, py)) && !(y.shifts && movesUnder(py, px)))
  );
}

function commutes(x: Operation, y: Operation): boolean {
  return commutesParsed(parsedOp(x), parsedOp(y));
}

const ABSENT = Symbol('absent');

function valueAt(doc: unknown, segments: readonly string[]): unknown {
  try {
    return resolve(doc, segments);
  } catch {
    return ABSENT;
  }
}

/** The ops that turn `before` into `after`, both found at `segments` (ABSENT where nothing is). */
function diffAt(segments: readonly string[], before: unknown, after: unknown): Operation[] {
  const path = formatPointer(segments);
  if (before === ABSENT) {
    return after === ABSENT ? [] : [{ op: 'add', path, value: after }];
  }
  return after === ABSENT ? [{ op: 'remove', path }] : diff(before, after, path);
}

/** Where a rebuild must compare before and after; kernel ops elsewhere are reported as they are. */
interface Watch {
  direct: Operation[];
  points: string[][];
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
}

/** The top-level fields `ops` touch; `onRoot` makes the error for an op on the whole document. */
function fieldsOf(ops: readonly Operation[], onRoot: () => Error): Set<string> {
  const fields = new Set<string>();
  for (const pointer of ops.flatMap(op => parsedOp(op).pointers)) {
    const field = pointer[0];
    if (field === undefined) {
      throw onRoot();
    }
    fields.add(field);
  }
  return fields;
}

export function refusePrivate(field: string): void {
  if (field.startsWith('_')) {
    throw new PatchError(FORBIDDEN, `Field ${JSON.stringify(field)} is private: only the kernel writes it`);
  }
}

/** Operations that turn the given fields of `before` into those of `after`. */
export function fieldDiff(before: Record<string, unknown>, after: Record<string, unknown>, fields: Iterable<string>): Operation[] {
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

export class Mirror extends Emitter {
  readonly modelId: string;
  readonly clientId: string;
  readonly widget_manager: { get_model(id: string): Promise<Mirror> };

  private readonly sendToKernel: MirrorOptions['send'];
  private readonly getModel: MirrorOptions['getModel'];
  private confirmedVersion: number;
  /** The visible state: the confirmed one with the pending edits applied in place. */
  private visible: Record<string, unknown>;
  /** Own edits not yet answered, in order; only the last may be unsent, later edits are combined into it. */
  private pending: Edit[] = [];
  /** The id of the edit awaiting its answer (even if replay dropped it locally). */
  private inFlight: string | null = null;
  /** A `sync` is out; kernel patches are ignored until the `state` reply. */
  private syncing = false;
  private editCount = 0;
  private isClosed = false;

  constructor(options: MirrorOptions) {
    super();
    this.modelId = options.modelId;
    this.clientId = options.clientId ?? randomId();
    this.visible = options.state;
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

  /** A field of the visible state. */
  get(key: string): unknown {
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
    const fields = fieldsOf(edit, () => new PatchError(FORBIDDEN, 'An edit cannot replace the whole state'));
    fields.forEach(refusePrivate);
    if (!edit.length) {
      return;
    }
    const undo: Undo[] = [];
    applyLogged(this.visible, edit, undo); // a PatchError leaves everything as it was
    this.enqueue(edit, fields, undo);
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

  /** A custom message to the kernel's `on_msg` handlers. */
  sendCustom(content: unknown, buffers: Binary[] = []): void {
    this.assertOpen();
    this.post(writeCustom(content), buffers.map(toArrayBuffer));
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
      const method = readMethod(data);
      if (method !== CUSTOM || hasBufferPaths(data)) {
        readBuffers(data, buffers);
      }
      switch (method) {
        case PATCH:
          return this.onPatch(readPatch(data));
        case REJECT:
          return this.onReject(readReject(data));
        case STATE:
          return this.onState(readState(data));
        case CUSTOM:
          return this.emit('msg:custom', readCustom(data), buffers.map(toDataView));
        default:
          throw new MessageError(`Unknown method ${JSON.stringify(method)}`);
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
        code: CLOSED,
        message: 'The model is no longer available (closed, or its kernel restarted): this edit got no answer.'
      };
      this.emit('error', error);
    }
    this.pending = [];
    this.inFlight = null;
    this.emit('close');
    this.off();
  }

  private onPatch(patch: KernelPatch): void {
    const { version, ack } = patch;
    const ops = patch.ops as Operation[];
    try {
      ops.forEach(validateOperation);
      fieldsOf(ops, () => new PatchError(BAD_PATH, 'A kernel patch cannot replace the whole state'));
    } catch (error) {
      throw new MessageError((error as Error).message);
    }
    if (this.syncing || version !== this.confirmedVersion + 1) {
      // The state we ask for (or asked for) includes this version: only learn which of our
      // edits it answers, or they would wait for an answer forever.
      this.settle(ack);
      if (!this.syncing) {
        this.resync(OUT_OF_SYNC, `Expected version ${this.confirmedVersion + 1}, got ${version}`);
      }
      return;
    }
    const answered = this.pending.filter(edit => ack.includes(edit.id));
    let change: Operation[] = [];
    try {
      if (!this.pending.length) {
        applyPatch(this.visible, ops);
        change = ops;
      } else if (answered.every((edit, i) => this.pending[i] === edit) && jsonEqual(answered.flatMap(e => e.ops), ops)) {
        // The kernel did just what the answered edits did: the visible state is already right.
        this.pending = this.pending.slice(answered.length);
      } else {
        change = this.rebuild(ops, new Set(answered));
      }
    } catch (error) {
      if (!(error instanceof PatchError)) {
        throw error;
      }
      this.resync(OUT_OF_SYNC, `Kernel patch ${version} does not apply: ${error.message}`);
      return;
    }
    this.confirmedVersion = version;
    if (this.inFlight !== null && ack.includes(this.inFlight)) {
      this.inFlight = null;
    }
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
      this.resync(OUT_OF_SYNC, `Rejection at version ${version}, but this frontend has ${this.confirmedVersion}`);
    }
  }

  /** Drops the edits that `ack` answers, without applying the patch that carried it. */
  private settle(ack: readonly string[]): void {
    if (!this.pending.some(edit => ack.includes(edit.id)) && !ack.includes(this.inFlight ?? '')) {
      return;
    }
    if (this.inFlight !== null && ack.includes(this.inFlight)) {
      this.inFlight = null;
    }
    this.emitChange(this.rebuild([], new Set(this.pending.filter(edit => ack.includes(edit.id)))));
    this.flush();
  }

  private onReject(rejection: Rejection): void {
    const { id, code, message, version } = rejection;
    if (id !== null && !id.startsWith(`${this.clientId}:`)) {
      this.checkVersion(version); // another frontend's edit: nothing of ours changes
      return;
    }
    // A rejection takes its followers with it: unsent edits were made on top of the rejected one.
    const followers = id === this.inFlight ? this.pending.filter(edit => !edit.sent) : [];
    if (id === this.inFlight) {
      this.inFlight = null;
    }
    this.emitChange(this.rebuild([], new Set(this.pending.filter(edit => edit.id === id || followers.includes(edit)))));
    const error: MirrorError = { id, code, message };
    this.emit('error', error);
    followers.forEach(edit => this.emitDropped(edit, `it was made on top of the rejected edit ${id}`));
    this.checkVersion(version);
    this.flush();
  }

  private onState({ version, state }: ModelState): void {
    if (!this.syncing && version <= this.confirmedVersion) {
      return; // the reply to another frontend's sync: nothing new
    }
    const before = this.visible; // left as it is: nothing shares it any more
    this.visible = state;
    this.confirmedVersion = version;
    this.syncing = false;
    this.redo(); // an edit still in flight stays so: its answer is on the way
    this.emitChange(fieldDiff(before, this.visible, new Set([...Object.keys(before), ...Object.keys(this.visible)])));
    this.flush();
  }

  // ---------------------------------------------------------------- confirmed / pending / visible

  /**
   * Takes the pending edits off the visible state, applies `kernelOps`, drops the `leaving`
   * edits and redoes the others (dropping those that no longer apply). Returns the change of
   * the visible state. On a PatchError from `kernelOps` everything is put back and it rethrows.
   */
  private rebuild(kernelOps: readonly Operation[], leaving: ReadonlySet<Edit>): Operation[] {
    if (!leaving.size && this.commutesWithPending(kernelOps)) {
      // Ops elsewhere (the usual kernel patch while an edit waits): applied in either order they
      // do the same, so they go on the visible state as they are, and the pending edits' undo
      // logs stay valid. Nothing is undone, redone or compared.
      applyPatch(this.visible, kernelOps);
      return [...kernelOps];
    }
    const { direct, points } = this.watch(kernelOps, leaving);
    const touched = [...kernelOps, ...this.pending.flatMap(edit => edit.ops)].flatMap(pointersOf).map(parsePointer);
    const before = points.map(point => {
      const value = valueAt(this.visible, point);
      // A value that an op changes inside (rather than replaces) must be copied to be compared.
      const inside = touched.some(path => path.length > point.length && overlaps(point, path));
      return inside && value !== ABSENT ? jsonClone(value) : value;
    });
    for (const edit of [...this.pending].reverse()) {
      undoAll(edit.undo);
    }
    try {
      applyPatch(this.visible, kernelOps);
    } catch (error) {
      this.redo();
      throw error;
    }
    this.pending = this.pending.filter(edit => !leaving.has(edit));
    this.redo();
    return [...direct, ...points.flatMap((point, i) => diffAt(point, before[i], valueAt(this.visible, point)))];
  }

  /** Whether every op commutes with every pending op (pointers parsed once per op). */
  private commutesWithPending(ops: readonly Operation[]): boolean {
    const pending = this.pending.flatMap(edit => edit.ops).map(parsedOp);
    return ops.every(op => {
      const mine = parsedOp(op);
      return pending.every(other => commutesParsed(mine, other));
    });
  }

  /**
   * Which kernel ops a rebuild reports as they are (those that commute with every pending
   * edit and with everything watched) and where it compares: at the ops of the leaving
   * edits, of the kernel ops that do not commute, and of the staying edits those touch. When
   * a watched op inserts into or removes from an array, the comparison covers its whole field.
   */
  private watch(kernelOps: readonly Operation[], leaving: ReadonlySet<Edit>): Watch {
    const pendingOps = this.pending.flatMap(edit => edit.ops);
    const watched = new Set<Operation>(this.pending.filter(edit => leaving.has(edit)).flatMap(edit => edit.ops));
    kernelOps.filter(op => !pendingOps.every(p => commutes(op, p))).forEach(op => watched.add(op));
    const clashes = (op: Operation): boolean => [...watched].some(w => w !== op && !commutes(op, w));
    for (let grown = true; grown; ) {
      grown = false;
      for (const edit of this.pending) {
        if (!edit.ops.every(op => watched.has(op)) && edit.ops.some(clashes)) {
          edit.ops.forEach(op => watched.add(op));
          grown = true;
        }
      }
      for (const op of kernelOps) {
        if (!watched.has(op) && clashes(op)) {
          watched.add(op);
          grown = true;
        }
      }
    }
    if (![...watched].some(shifts)) {
      const points = [...watched].flatMap(changedPointers).map(parsePointer);
      const outermost = points.filter(
        (p, i) => !points.some((q, j) => (q.length < p.length || (q.length === p.length && j < i)) && overlaps(p, q))
      );
      return { direct: kernelOps.filter(op => !watched.has(op)), points: outermost };
    }
    const fieldsOfOp = (op: Operation): string[] => pointersOf(op).map(p => parsePointer(p)[0]);
    const fields = new Set([...pendingOps, ...kernelOps].filter(op => watched.has(op)).flatMap(fieldsOfOp));
    for (let grown = true; grown; ) {
      grown = false;
      for (const op of kernelOps) {
        const mine = fieldsOfOp(op);
        if (mine.some(f => fields.has(f)) && !mine.every(f => fields.has(f))) {
          mine.forEach(f => fields.add(f));
          grown = true;
        }
      }
    }
    return {
      direct: kernelOps.filter(op => !fieldsOfOp(op).some(f => fields.has(f))),
      points: [...fields].map(field => [field])
    };
  }

  /** Applies the pending edits to the visible state again; those that no longer apply are dropped. */
  private redo(): void {
    const dropped: Edit[] = [];
    this.pending = this.pending.filter(edit => {
      edit.undo = [];
      try {
        applyLogged(this.visible, edit.ops, edit.undo);
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
  }

  private enqueue(ops: Operation[], fields: Set<string>, undo: Undo[]): void {
    const last = this.pending[this.pending.length - 1];
    if (last && !last.sent) {
      ops.forEach(op => combine(last.ops, op));
      fields.forEach(field => last.fields.add(field));
      last.undo.push(...undo);
    } else {
      // a copy: later edits are combined into it, and `ops` also went to change listeners
      const id = `${this.clientId}:${++this.editCount}`;
      const combined: Operation[] = [];
      ops.forEach(op => combine(combined, op));
      this.pending.push({ id, base: this.confirmedVersion, ops: combined, fields, sent: false, undo });
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
    const { data, buffers } = writeEdit(next.id, next.base, next.ops);
    this.post(data, buffers);
  }

  private emitDropped(edit: Edit, why: string): void {
    const error: MirrorError = { id: edit.id, code: DROPPED, message: `Edit not sent: ${why}` };
    this.emit('error', error);
  }

  /** Asks the kernel for the whole state (done by itself when it misses a message). */
  requestSync(): void {
    if (!this.syncing) {
      this.syncing = true;
      this.post(writeSync());
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

  /** Throws if the model is closed: it takes no more edits or messages. */
  assertOpen(): void {
    if (this.isClosed) {
      throw new Error(`Model ${this.modelId} is closed`);
    }
  }
}
