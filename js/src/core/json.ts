/**
 * JSON values as they live in a synced state document: plain objects, arrays, scalars,
 * and binary leaves (DataView, ArrayBuffer, typed arrays) that are never descended into.
 */

export type JSONValue = null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

export type Binary = ArrayBuffer | ArrayBufferView;

/** True for binary leaves. The tag test also accepts ArrayBuffers from another realm (jsdom). */
export function isBinary(value: unknown): value is Binary {
  return ArrayBuffer.isView(value) || Object.prototype.toString.call(value) === '[object ArrayBuffer]';
}

/** True for a JSON object (not an array, not null, not binary). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isBinary(value);
}

/**
 * Sets an own property. Plain assignment of `__proto__` would change the prototype instead
 * of adding a key, and a document may legitimately have such a key.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__' && !Object.hasOwn(target, key)) {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** The bytes of a binary leaf, without copying them. */
export function bytesOf(value: Binary): Uint8Array {
  return ArrayBuffer.isView(value)
    ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
    : new Uint8Array(value);
}

/** Deep equality of JSON values; binary leaves compare by content. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) {
    return true;
  }
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isBinary(a)) {
    if (!isBinary(b)) {
      return false;
    }
    const x = bytesOf(a);
    const y = bytesOf(b);
    return x.length === y.length && x.every((byte, i) => byte === y[i]);
  }
  if (isObject(a)) {
    if (!isObject(b)) {
      return false;
    }
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every(key => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]))
    );
  }
  return false;
}

/** Deep copy of the containers of a JSON value. Binary leaves are shared: they are immutable here. */
export function jsonClone<T>(value: T): T {
  if (Array.isArray(value)) {
    return value.map(jsonClone) as T;
  }
  if (isObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      setOwn(copy, key, jsonClone(value[key]));
    }
    return copy as T;
  }
  return value;
}
