/**
 * RFC 6902 JSON Patch with RFC 6901 pointers. Patches apply in place; atomicity comes from
 * an undo log, so the cost of an operation follows the operation, not the document.
 */

import { isObject, jsonClone, jsonEqual, setOwn } from './json';
import { BAD_MESSAGE, BAD_OP, BAD_PATH, FORBIDDEN, TEST_FAILED, TOO_LARGE } from './protocol';

export { jsonClone, jsonEqual, type JSONValue } from './json';

export type OpName = 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';

export interface Operation {
  op: OpName;
  path: string;
  value?: unknown;
  from?: string;
}

/**
 * `forbidden` is only raised by the mirror, for edits of private (`_`) fields; `too_large`
 * and `bad_message` by its checks of the kernel's limits (limits.ts).
 */
export type PatchErrorCode =
  | typeof BAD_OP
  | typeof BAD_PATH
  | typeof TEST_FAILED
  | typeof FORBIDDEN
  | typeof TOO_LARGE
  | typeof BAD_MESSAGE;

export class PatchError extends Error {
  constructor(
    readonly code: PatchErrorCode,
    message: string
  ) {
    super(message);
    this.name = 'PatchError';
  }
}

type Container = Record<string, unknown> | unknown[];
export type Undo = () => void;

// ---------------------------------------------------------------- pointers

export function parsePointer(path: string): string[] {
  if (path === '') {
    return [];
  }
  if (!path.startsWith('/')) {
    throw new PatchError(BAD_PATH, `A JSON pointer starts with "/": ${JSON.stringify(path)}`);
  }
  return path
    .slice(1)
    .split('/')
    .map(segment => {
      if (/~(?![01])/.test(segment)) {
        throw new PatchError(BAD_PATH, `Bad "~" escape in JSON pointer ${JSON.stringify(path)}`);
      }
      return segment.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

export function formatPointer(segments: readonly (string | number)[]): string {
  return segments.map(s => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

// ---------------------------------------------------------------- validation

const NEEDS_VALUE: ReadonlySet<string> = new Set(['add', 'replace', 'test']);
const NEEDS_FROM: ReadonlySet<string> = new Set(['move', 'copy']);
const OPS: ReadonlySet<string> = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/** Checks the shape of one operation (not whether it applies). */
export function validateOperation(op: unknown): asserts op is Operation {
  if (!isObject(op)) {
    throw new PatchError(BAD_OP, 'An operation must be an object');
  }
  if (typeof op.op !== 'string' || !OPS.has(op.op)) {
    throw new PatchError(BAD_OP, `Unknown operation ${JSON.stringify(op.op)}`);
  }
  if (typeof op.path !== 'string') {
    throw new PatchError(BAD_OP, `"${op.op}" needs a string "path"`);
  }
  if (NEEDS_VALUE.has(op.op) && op.value === undefined) {
    throw new PatchError(BAD_OP, `"${op.op}" needs a "value"`);
  }
  if (NEEDS_FROM.has(op.op) && typeof op.from !== 'string') {
    throw new PatchError(BAD_OP, `"${op.op}" needs a string "from"`);
  }
}

// ---------------------------------------------------------------- navigation

function isContainer(value: unknown): value is Container {
  return Array.isArray(value) || isObject(value);
}

/** An array index from a pointer segment; `-` (one past the end) only where `end` allows it. */
function arrayIndex(list: unknown[], segment: string, end: boolean): number {
  const index = segment === '-' ? list.length : /^(0|[1-9][0-9]*)$/.test(segment) ? Number(segment) : NaN;
  if (!(index < list.length || (end && index === list.length))) {
    throw new PatchError(BAD_PATH, `No array index ${JSON.stringify(segment)} in an array of ${list.length}`);
  }
  return index;
}

function child(container: unknown, segment: string): unknown {
  if (Array.isArray(container)) {
    return container[arrayIndex(container, segment, false)];
  }
  if (isObject(container) && Object.hasOwn(container, segment)) {
    return container[segment];
  }
  throw new PatchError(BAD_PATH, `No member ${JSON.stringify(segment)}`);
}

/** The value at a parsed pointer; throws `bad_path` if there is none. */
export function resolve(doc: unknown, segments: readonly string[]): unknown {
  return segments.reduce(child, doc);
}

function parentOf(doc: unknown, segments: readonly string[]): [Container, string] {
  const parent = resolve(doc, segments.slice(0, -1));
  if (!isContainer(parent)) {
    throw new PatchError(BAD_PATH, `${formatPointer(segments.slice(0, -1))} is not a container`);
  }
  return [parent, segments[segments.length - 1]];
}

// ---------------------------------------------------------------- primitive edits, each logging its undo

function add(doc: unknown, segments: string[], value: unknown, undo: Undo[]): unknown {
  if (segments.length === 0) {
    return value;
  }
  const [parent, key] = parentOf(doc, segments);
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, key, true);
    parent.splice(index, 0, value);
    undo.push(() => parent.splice(index, 1));
  } else {
    const had = Object.hasOwn(parent, key);
    const old = parent[key];
    setOwn(parent, key, value);
    undo.push(() => (had ? setOwn(parent, key, old) : delete parent[key]));
  }
  return doc;
}

function remove(doc: unknown, segments: string[], undo: Undo[]): unknown {
  if (segments.length === 0) {
    throw new PatchError(BAD_PATH, 'The document root cannot be removed');
  }
  const [parent, key] = parentOf(doc, segments);
  const old = child(parent, key);
  if (Array.isArray(parent)) {
    const index = Number(key);
    parent.splice(index, 1);
    undo.push(() => parent.splice(index, 0, old));
  } else {
    delete parent[key];
    undo.push(() => setOwn(parent, key, old));
  }
  return old;
}

function replace(doc: unknown, segments: string[], value: unknown, undo: Undo[]): unknown {
  if (segments.length === 0) {
    return value;
  }
  const [parent, key] = parentOf(doc, segments);
  const old = child(parent, key);
  if (Array.isArray(parent)) {
    const index = Number(key);
    parent[index] = value;
    undo.push(() => (parent[index] = old));
  } else {
    setOwn(parent, key, value);
    undo.push(() => setOwn(parent, key, old));
  }
  return doc;
}

function isProperPrefix(prefix: string[], path: string[]): boolean {
  return prefix.length < path.length && prefix.every((segment, i) => segment === path[i]);
}

/** Applies one operation; returns the (possibly new) root. Values are copied in, so the document never aliases an operation. */
function applyOperation(doc: unknown, op: Operation, undo: Undo[]): unknown {
  validateOperation(op);
  const path = parsePointer(op.path);
  switch (op.op) {
    case 'add':
      return add(doc, path, jsonClone(op.value), undo);
    case 'remove':
      remove(doc, path, undo);
      return doc;
    case 'replace':
      return replace(doc, path, jsonClone(op.value), undo);
    case 'move': {
      const from = parsePointer(op.from as string);
      if (isProperPrefix(from, path)) {
        throw new PatchError(BAD_PATH, `Cannot move ${op.from} into itself (${op.path})`);
      }
      if (op.from === op.path) {
        resolve(doc, from); // it must exist; moved onto itself, it stays (the whole document too)
        return doc;
      }
      return add(doc, path, remove(doc, from, undo), undo);
    }
    case 'copy':
      return add(doc, path, jsonClone(resolve(doc, parsePointer(op.from as string))), undo);
    case 'test':
      if (!jsonEqual(resolve(doc, path), op.value)) {
        throw new PatchError(TEST_FAILED, `Test failed at ${JSON.stringify(op.path)}`);
      }
      return doc;
  }
}

/**
 * Applies `ops` to `doc` in place, all or nothing: on failure every change made so far is
 * undone and the PatchError is rethrown. Returns the resulting root (a new one only if an
 * operation replaced the root).
 */
export function applyPatch(doc: unknown, ops: readonly Operation[]): unknown {
  return applyLogged(doc, ops, []);
}

/**
 * `applyPatch` that also appends, on success, the steps that undo it to `undo` (run them
 * last to first). Undoing costs what the ops cost, so a patch can be taken back without a
 * copy of the document.
 */
export function applyLogged(doc: unknown, ops: readonly Operation[], undo: Undo[]): unknown {
  const start = undo.length;
  let root = doc;
  try {
    for (const op of ops) {
      root = applyOperation(root, op, undo);
    }
  } catch (error) {
    undoAll(undo.splice(start));
    throw error;
  }
  return root;
}

/** Runs undo steps last to first. */
export function undoAll(undo: readonly Undo[]): void {
  for (let i = undo.length - 1; i >= 0; i--) {
    undo[i]();
  }
}

// ---------------------------------------------------------------- what an operation touches

/** The pointers an operation reads or writes. */
export function pointersOf(op: Operation): string[] {
  return op.op === 'move' || op.op === 'copy' ? [op.path, op.from as string] : [op.path];
}

/** The pointers whose values an operation changes. */
export function changedPointers(op: Operation): string[] {
  return op.op === 'test' ? [] : op.op === 'move' ? [op.path, op.from as string] : [op.path];
}

/**
 * The paths (parsed) an operation reads or writes, as the kernel's conflict check sees them
 * (docs/protocol.md, "Conflicts"): inserting into or removing from an array moves its later
 * elements, so such an op touches the whole array.
 */
export function touchedPaths(op: Operation): string[][] {
  const shifts = op.op === 'add' || op.op === 'remove' || op.op === 'move';
  return pointersOf(op).map(pointer => {
    const segments = parsePointer(pointer);
    const last = segments[segments.length - 1] ?? '';
    return shifts && /^(0|[1-9][0-9]*|-)$/.test(last) ? segments.slice(0, -1) : segments;
  });
}

/** Whether two parsed paths are equal or one contains the other. */
export function overlaps(a: readonly string[], b: readonly string[]): boolean {
  const n = Math.min(a.length, b.length);
  return a.slice(0, n).every((segment, i) => segment === b[i]);
}

/**
 * Whether `op` may change the value at `target` (parsed): it writes at, under or above it.
 * Inserting into or removing from an array moves its later elements, so such an op counts
 * as a change of the whole array.
 */
export function affects(op: Operation, target: readonly string[]): boolean {
  return changedPointers(op).some(pointer => {
    let segments = parsePointer(pointer);
    if (op.op !== 'replace' && /^(0|[1-9][0-9]*|-)$/.test(segments[segments.length - 1] ?? '')) {
      segments = segments.slice(0, -1);
    }
    return overlaps(segments, target);
  });
}

/** Whether `changes` touch what `ops` touch, by the kernel's conflict rule. */
export function interferes(changes: readonly Operation[], ops: readonly Operation[]): boolean {
  const paths = ops.flatMap(touchedPaths);
  return changes.flatMap(touchedPaths).some(changed => paths.some(path => overlaps(changed, path)));
}

// ---------------------------------------------------------------- diff

/**
 * Operations that turn `a` into `b`. Cheap rather than optimal: shared subtrees are skipped by
 * identity, arrays keep their common prefix and suffix, objects are compared key by key.
 * Values in the result are those of `b`, not copies.
 */
export function diff(a: unknown, b: unknown, path = ''): Operation[] {
  const ops: Operation[] = [];
  diffInto(a, b, path, ops);
  return ops;
}

function diffInto(a: unknown, b: unknown, path: string, ops: Operation[]): void {
  if (a === b) {
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    diffArrays(a, b, path, ops);
  } else if (isObject(a) && isObject(b)) {
    diffObjects(a, b, path, ops);
  } else if (!jsonEqual(a, b)) {
    ops.push({ op: 'replace', path, value: b });
  }
}

function diffArrays(a: unknown[], b: unknown[], path: string, ops: Operation[]): void {
  let start = 0;
  while (start < a.length && start < b.length && jsonEqual(a[start], b[start])) {
    start++;
  }
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && jsonEqual(a[endA - 1], b[endB - 1])) {
    endA--;
    endB--;
  }
  // The differing middles: pair elements up, then drop a's surplus or insert b's.
  const paired = start + Math.min(endA - start, endB - start);
  for (let i = start; i < paired; i++) {
    diffInto(a[i], b[i], `${path}/${i}`, ops);
  }
  for (let i = paired; i < endA; i++) {
    ops.push({ op: 'remove', path: `${path}/${paired}` });
  }
  for (let i = paired; i < endB; i++) {
    ops.push({ op: 'add', path: `${path}/${i}`, value: b[i] });
  }
}

function diffObjects(a: Record<string, unknown>, b: Record<string, unknown>, path: string, ops: Operation[]): void {
  for (const key of Object.keys(a)) {
    const keyPath = path + formatPointer([key]);
    if (Object.hasOwn(b, key)) {
      diffInto(a[key], b[key], keyPath, ops);
    } else {
      ops.push({ op: 'remove', path: keyPath });
    }
  }
  for (const key of Object.keys(b)) {
    if (!Object.hasOwn(a, key)) {
      ops.push({ op: 'add', path: path + formatPointer([key]), value: b[key] });
    }
  }
}
