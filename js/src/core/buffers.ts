/**
 * Binary values in messages (docs/protocol.md, "Binary values"): each one travels as a
 * `null` in the JSON plus an entry in the Jupyter message's buffers, located by `buffer_paths`.
 */

import { type Binary, isBinary, isObject, setOwn } from './json';
import { BAD_MESSAGE } from './protocol';

export type BufferPath = (string | number)[];

/** A message from the kernel that does not follow the protocol. */
export class MessageError extends Error {
  readonly code = BAD_MESSAGE;
  constructor(message: string) {
    super(message);
    this.name = 'MessageError';
  }
}

/** The bytes of a binary value as an ArrayBuffer of their own (the view's buffer itself when it spans all of it). */
export function toArrayBuffer(value: Binary): ArrayBuffer {
  if (!ArrayBuffer.isView(value)) {
    return value;
  }
  const { buffer, byteOffset, byteLength } = value;
  if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) {
    return buffer;
  }
  return new Uint8Array(buffer, byteOffset, byteLength).slice().buffer;
}

/** A DataView over a binary value (the anywidget convention for binary state). */
export function toDataView(value: Binary): DataView {
  if (value instanceof DataView) {
    return value;
  }
  return ArrayBuffer.isView(value)
    ? new DataView(value.buffer, value.byteOffset, value.byteLength)
    : new DataView(value);
}

/**
 * Replaces every binary value in `data` by null. The input is not modified: containers on
 * the way to a binary value are copied, everything else is shared.
 */
export function takeBuffers<T>(data: T): { data: T; buffer_paths: BufferPath[]; buffers: ArrayBuffer[] } {
  const buffer_paths: BufferPath[] = [];
  const buffers: ArrayBuffer[] = [];
  const path: BufferPath = [];

  const take = (value: unknown): unknown => {
    if (isBinary(value)) {
      buffer_paths.push([...path]);
      buffers.push(toArrayBuffer(value));
      return null;
    }
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      value.forEach((item, i) => {
        path.push(i);
        const taken = take(item);
        path.pop();
        if (taken !== item) {
          copy ??= value.slice();
          copy[i] = taken;
        }
      });
      return copy ?? value;
    }
    if (isObject(value)) {
      let copy: Record<string, unknown> | undefined;
      for (const key of Object.keys(value)) {
        path.push(key);
        const taken = take(value[key]);
        path.pop();
        if (taken !== value[key]) {
          copy ??= { ...value };
          setOwn(copy, key, taken);
        }
      }
      return copy ?? value;
    }
    return value;
  };

  return { data: take(data) as T, buffer_paths, buffers };
}

/** The member of a container named by a buffer path segment; throws if there is none. */
function member(container: unknown, segment: unknown): unknown {
  if (Array.isArray(container) && typeof segment === 'number' && Number.isInteger(segment) && segment >= 0 && segment < container.length) {
    return container[segment];
  }
  if (isObject(container) && typeof segment === 'string' && Object.hasOwn(container, segment)) {
    return container[segment];
  }
  throw new MessageError(`buffer path segment ${JSON.stringify(segment)} leads nowhere`);
}

/**
 * Puts `buffers` back where `buffer_paths` says, as DataViews. Works in place (the data is a
 * freshly received message) and returns `data`. Throws MessageError if a path does not lead
 * to a null or the counts differ.
 */
export function putBuffers<T>(data: T, buffer_paths: unknown, buffers: readonly Binary[]): T {
  if (!Array.isArray(buffer_paths) || buffer_paths.length !== buffers.length) {
    throw new MessageError(`buffer_paths does not match the ${buffers.length} buffer(s)`);
  }
  buffer_paths.forEach((path: unknown, i) => {
    if (!Array.isArray(path) || path.length === 0) {
      throw new MessageError(`buffer path ${JSON.stringify(path)} is not a non-empty array`);
    }
    const parent = path.slice(0, -1).reduce(member, data);
    const last = path[path.length - 1];
    if (member(parent, last) !== null) {
      throw new MessageError(`buffer path ${JSON.stringify(path)} does not lead to a null`);
    }
    (parent as Record<string | number, unknown>)[last] = toDataView(buffers[i]);
  });
  return data;
}
