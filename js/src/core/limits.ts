/**
 * The kernel's limits on one edit (docs/protocol.md, "Limits"), checked before an edit
 * leaves: an edit the kernel would refuse for size, depth, number range or text that is not
 * valid Unicode is refused here with an `error`, so an honest view never waits for an answer
 * (ipykernel's own parser drops, unanswered, what nests over 1,000 levels).
 */

import { isBinary, isObject } from './json';
import { PatchError } from './patch';
import { BAD_MESSAGE, TOO_LARGE } from './protocol';

/** The Python kernel's defaults (`syncstate.limits`). */
export const LIMITS = {
  maxOps: 10_000,
  maxDepth: 100,
  /** Bytes one edit may make the kernel broadcast, roughly its JSON text plus binary. */
  maxChangeBytes: 64 * 1024 * 1024
};

/** A lone UTF-16 surrogate (half an emoji): JSON cannot carry it as valid Unicode. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkText(text: string): void {
  if (LONE_SURROGATE.test(text)) {
    throw new PatchError(BAD_MESSAGE, `Text is not valid Unicode (a lone surrogate): ${JSON.stringify(text)}`);
  }
}

/** Checks one value; returns its size, stopping as soon as it exceeds `budget`. */
function checkValue(value: unknown, budget: number): number {
  let size = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (depth > LIMITS.maxDepth) {
      throw new PatchError(TOO_LARGE, `A value is nested deeper than ${LIMITS.maxDepth} levels`);
    }
    if (typeof item === 'string') {
      checkText(item);
      size += item.length + 2;
    } else if (typeof item === 'number') {
      if (!Number.isFinite(item)) {
        // JSON.stringify would silently send null.
        throw new PatchError(BAD_MESSAGE, `${item} is not a JSON number`);
      }
      size += 24;
    } else if (typeof item === 'bigint') {
      throw new PatchError(BAD_MESSAGE, 'A BigInt is not a JSON number');
    } else if (isBinary(item)) {
      size += item.byteLength;
    } else if (Array.isArray(item)) {
      size += 2 + item.length;
      item.forEach(child => stack.push([child, depth + 1]));
    } else if (isObject(item)) {
      for (const [key, child] of Object.entries(item)) {
        checkText(key);
        size += key.length + 4;
        stack.push([child, depth + 1]);
      }
    } else {
      size += 5;
    }
    if (size > budget) {
      throw new PatchError(TOO_LARGE, `The edit exceeds ${LIMITS.maxChangeBytes} bytes`);
    }
  }
  return size;
}

/** Throws PatchError (`too_large` or `bad_message`) for an edit the kernel would refuse. */
export function checkLimits(ops: unknown): void {
  if (!Array.isArray(ops)) {
    return; // the shape is checked elsewhere (bad_op)
  }
  if (ops.length > LIMITS.maxOps) {
    throw new PatchError(TOO_LARGE, `${ops.length} operations exceed the limit of ${LIMITS.maxOps}`);
  }
  let budget = LIMITS.maxChangeBytes;
  for (const op of ops) {
    if (!isObject(op)) {
      continue;
    }
    for (const pointer of [op.path, op.from]) {
      if (typeof pointer === 'string') {
        checkText(pointer);
        if (pointer.split('/').length - 1 > LIMITS.maxDepth) {
          throw new PatchError(TOO_LARGE, `A path is deeper than ${LIMITS.maxDepth} levels`);
        }
      }
    }
    if ('value' in op) {
      budget -= checkValue(op.value, budget);
    }
  }
}
