import { describe, expect, it } from 'vitest';
import { MessageError, putBuffers, takeBuffers } from '../src/core';

const bytes = (...values: number[]) => new Uint8Array(values);
const contents = (view: unknown) => Array.from(new Uint8Array((view as DataView).buffer, (view as DataView).byteOffset, (view as DataView).byteLength));

describe('takeBuffers / putBuffers', () => {
  it('round-trips binary values of every kind, as DataViews', () => {
    const whole = bytes(1, 2, 3);
    const part = new Uint8Array(bytes(9, 8, 7, 6).buffer, 1, 2);
    const message = {
      method: 'patch',
      ops: [{ op: 'replace', path: '/image', value: new DataView(whole.buffer) }],
      other: { raw: bytes(4).buffer, typed: part, plain: [1, 'x', null] }
    };
    const taken = takeBuffers(message);
    expect(taken.buffer_paths).toEqual([
      ['ops', 0, 'value'],
      ['other', 'raw'],
      ['other', 'typed']
    ]);
    expect(taken.buffers.every(b => b instanceof ArrayBuffer)).toBe(true);
    expect(taken.buffers[0]).toBe(whole.buffer); // a view of a whole buffer is not copied
    expect(Array.from(new Uint8Array(taken.buffers[2]))).toEqual([8, 7]); // a partial view is
    expect(taken.data.ops[0].value).toBeNull();
    expect(taken.data.other.plain).toBe(message.other.plain); // untouched parts are shared
    expect(message.ops[0].value).toBeInstanceOf(DataView); // the input is not modified

    const wire = JSON.parse(JSON.stringify(taken.data));
    const back = putBuffers(wire, taken.buffer_paths, taken.buffers);
    expect(back).toBe(wire);
    expect(contents(back.ops[0].value)).toEqual([1, 2, 3]);
    expect(contents(back.other.raw)).toEqual([4]);
    expect(contents(back.other.typed)).toEqual([8, 7]);
    expect(back.other.typed).toBeInstanceOf(DataView);
  });

  it('leaves messages without binary values alone', () => {
    const message = { a: [1, { b: 2 }] };
    const taken = takeBuffers(message);
    expect(taken.data).toBe(message);
    expect(taken.buffer_paths).toEqual([]);
    expect(putBuffers({ a: 1 }, [], [])).toEqual({ a: 1 });
  });

  it('throws on bad paths and counts', () => {
    const buffer = bytes(1).buffer;
    const bad: [unknown, unknown][] = [
      [{ a: null }, []],
      [{ a: null }, [['a'], ['a']]],
      [{ a: 1 }, [['a']]],
      [{ a: null }, [['b']]],
      [{ a: [null] }, [['a', '0']]],
      [{ a: [null] }, [['a', 1]]],
      [{ a: null }, [[]]],
      [{ a: null }, 'a'],
      [{ a: null }, undefined]
    ];
    for (const [data, paths] of bad) {
      expect(() => putBuffers(data, paths, [buffer])).toThrow(MessageError);
    }
    expect(putBuffers({ a: [null] }, [['a', 0]], [buffer]).a[0]).toBeInstanceOf(DataView);
  });
});
