import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Operation,
  PatchError,
  affects,
  applyPatch,
  diff,
  formatPointer,
  jsonClone,
  jsonEqual,
  parsePointer
} from '../src/core';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PatchError);
    return (error as PatchError).code;
  }
  return undefined;
}

describe('pointers', () => {
  it('parses and formats with escapes', () => {
    expect(parsePointer('')).toEqual([]);
    expect(parsePointer('/a~1b/~0c/0/')).toEqual(['a/b', '~c', '0', '']);
    expect(formatPointer(['a/b', '~c', 0, ''])).toBe('/a~1b/~0c/0/');
  });

  it('refuses bad pointers', () => {
    expect(codeOf(() => parsePointer('a'))).toBe('bad_path');
    expect(codeOf(() => parsePointer('/a~2'))).toBe('bad_path');
    expect(codeOf(() => parsePointer('/a~'))).toBe('bad_path');
  });
});

describe('applyPatch', () => {
  it('moves a value onto itself as a no-op, the whole document too (as syncstate/patch.py does)', () => {
    const doc = { a: [1], b: 2 };
    expect(applyPatch(doc, [{ op: 'move', from: '', path: '' }])).toBe(doc);
    expect(applyPatch(doc, [{ op: 'move', from: '/a/0', path: '/a/0' }])).toEqual({ a: [1], b: 2 });
    expect(codeOf(() => applyPatch(doc, [{ op: 'move', from: '/x', path: '/x' }]))).toBe('bad_path');
  });

  it('is atomic: a failing op undoes the ones before it', () => {
    const doc = { a: [1, 2, 3], b: { c: 1 }, d: 'x' };
    const before = jsonClone(doc);
    const ops: Operation[] = [
      { op: 'add', path: '/a/1', value: 9 },
      { op: 'remove', path: '/b/c' },
      { op: 'replace', path: '/d', value: 'y' },
      { op: 'move', from: '/a/0', path: '/b/e' },
      { op: 'copy', from: '/a', path: '/f' },
      { op: 'add', path: '/a/-', value: 4 },
      { op: 'remove', path: '/a/0' },
      { op: 'test', path: '/d', value: 'nope' }
    ];
    expect(codeOf(() => applyPatch(doc, ops))).toBe('test_failed');
    expect(doc).toEqual(before);
    expect(Object.keys(doc)).toEqual(['a', 'b', 'd']);
  });

  it('applies in place and returns the root', () => {
    const doc = { a: 1 };
    expect(applyPatch(doc, [{ op: 'add', path: '/b', value: 2 }])).toBe(doc);
    expect(doc).toEqual({ a: 1, b: 2 });
    expect(applyPatch(doc, [{ op: 'replace', path: '', value: [1] }])).toEqual([1]);
  });

  it('reports error codes', () => {
    const doc = { a: [1], o: {} };
    expect(codeOf(() => applyPatch(doc, [{ op: 'nope' as 'add', path: '/a' }]))).toBe('bad_op');
    expect(codeOf(() => applyPatch(doc, [{ op: 'add', path: '/x' }]))).toBe('bad_op');
    expect(codeOf(() => applyPatch(doc, [{ op: 'move', path: '/x' }]))).toBe('bad_op');
    expect(codeOf(() => applyPatch(doc, [{ op: 'add', path: 3 as unknown as string, value: 1 }]))).toBe('bad_op');
    expect(codeOf(() => applyPatch(doc, [null as unknown as Operation]))).toBe('bad_op');
    expect(codeOf(() => applyPatch(doc, [{ op: 'remove', path: '/x' }]))).toBe('bad_path');
    expect(codeOf(() => applyPatch(doc, [{ op: 'add', path: '/a/01', value: 1 }]))).toBe('bad_path');
    expect(codeOf(() => applyPatch(doc, [{ op: 'replace', path: '/a/-', value: 1 }]))).toBe('bad_path');
    expect(codeOf(() => applyPatch(doc, [{ op: 'add', path: '/a/0/x', value: 1 }]))).toBe('bad_path');
    expect(codeOf(() => applyPatch(doc, [{ op: 'remove', path: '' }]))).toBe('bad_path');
    expect(codeOf(() => applyPatch(doc, [{ op: 'move', from: '/o', path: '/o/x' }]))).toBe('bad_path');
    expect(codeOf(() => applyPatch(doc, [{ op: 'test', path: '/a', value: [2] }]))).toBe('test_failed');
    expect(doc).toEqual({ a: [1], o: {} });
  });

  it('copies values in, so the document never aliases an operation', () => {
    const value = { x: [1] };
    const doc: Record<string, unknown> = {};
    applyPatch(doc, [
      { op: 'add', path: '/a', value },
      { op: 'copy', from: '/a', path: '/b' }
    ]);
    applyPatch(doc, [{ op: 'add', path: '/a/x/-', value: 2 }]);
    expect(value).toEqual({ x: [1] });
    expect(doc).toEqual({ a: { x: [1, 2] }, b: { x: [1] } });
  });

  it('treats __proto__ as an ordinary key', () => {
    const doc: Record<string, unknown> = {};
    applyPatch(doc, [{ op: 'add', path: '/__proto__', value: { polluted: true } }]);
    expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
    expect(Object.hasOwn(doc, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(codeOf(() => applyPatch({}, [{ op: 'remove', path: '/constructor' }]))).toBe('bad_path');
  });

  it('does not copy a large document for one op', () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => ({ id: i, done: false }));
    const doc = { rows };
    const row5 = rows[5];
    const ops: Operation[] = [
      { op: 'replace', path: '/rows/5/done', value: true },
      { op: 'add', path: '/rows/0', value: { id: -1, done: false } }
    ];
    expect(applyPatch(doc, ops)).toBe(doc);
    expect(doc.rows).toBe(rows);
    expect(rows[6]).toBe(row5);
    expect(row5.done).toBe(true);
    // and the undo path is in place too
    const failing: Operation[] = [{ op: 'remove', path: '/rows/0' }, { op: 'test', path: '/rows/0/id', value: 'x' }];
    expect(() => applyPatch(doc, failing)).toThrow(PatchError);
    expect(rows[0].id).toBe(-1);
    expect(rows.length).toBe(10_001);
  });
});

describe('jsonEqual and jsonClone', () => {
  it('compare binary leaves by content and share them when cloning', () => {
    const view = new DataView(new Uint8Array([1, 2, 3]).buffer);
    expect(jsonEqual({ b: view }, { b: new Uint8Array([1, 2, 3]) })).toBe(true);
    expect(jsonEqual({ b: view }, { b: new Uint8Array([1, 2]) })).toBe(false);
    expect(jsonEqual({ b: view }, { b: [1, 2, 3] })).toBe(false);
    const doc = { b: view, list: [{ x: 1 }] };
    const copy = jsonClone(doc);
    expect(copy.b).toBe(view);
    expect(copy.list).not.toBe(doc.list);
    expect(copy).toEqual(doc);
  });

  it('distinguish arrays, objects and missing keys', () => {
    expect(jsonEqual([], {})).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 1 })).toBe(false);
    expect(jsonEqual({ a: undefined }, { b: undefined })).toBe(false);
    expect(jsonEqual(1, 1.0)).toBe(true);
    expect(jsonEqual(null, {})).toBe(false);
  });
});

describe('diff', () => {
  const json = fc.jsonValue({ maxDepth: 4 });

  it('apply(a, diff(a, b)) equals b', () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        const doc = jsonClone(a);
        expect(applyPatch(doc, diff(a, b))).toEqual(b);
      }),
      { numRuns: 500 }
    );
  });

  it('works for edits of arrays of records', () => {
    const row = fc.record({ id: fc.nat(5), tags: fc.array(fc.string({ maxLength: 2 }), { maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 8 }), fc.array(row, { maxLength: 8 }), (a, b) => {
        expect(applyPatch(jsonClone({ rows: a }), diff({ rows: a }, { rows: b }))).toEqual({ rows: b });
      }),
      { numRuns: 500 }
    );
  });

  it('gives nothing for equal values and one op for one change', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ id: i }));
    expect(diff({ rows }, { rows })).toEqual([]);
    expect(diff({ rows }, { rows: [...rows.slice(0, 500), { id: -1 }, ...rows.slice(500)] })).toEqual([
      { op: 'add', path: '/rows/500', value: { id: -1 } }
    ]);
    expect(diff({ rows }, { rows: rows.filter(r => r.id !== 10) })).toEqual([{ op: 'remove', path: '/rows/10' }]);
    const edited = rows.map(r => (r.id === 7 ? { id: 70 } : r));
    expect(diff(rows, edited, '/rows')).toEqual([{ op: 'replace', path: '/rows/7/id', value: 70 }]);
    expect(diff({ 'a/b': 1 }, {})).toEqual([{ op: 'remove', path: '/a~1b' }]);
  });
});

describe('affects', () => {
  const at = (op: Operation, pointer: string) => affects(op, parsePointer(pointer));

  it('relates paths at, under and above', () => {
    const op: Operation = { op: 'replace', path: '/items/3/done', value: true };
    expect(at(op, '/items/3/done')).toBe(true);
    expect(at(op, '/items')).toBe(true);
    expect(at(op, '')).toBe(true);
    expect(at({ op: 'replace', path: '/items', value: [] }, '/items/3/done')).toBe(true);
    expect(at(op, '/items/4')).toBe(false);
    expect(at(op, '/title')).toBe(false);
    expect(at({ op: 'test', path: '/items', value: [] }, '/items')).toBe(false);
  });

  it('counts array inserts and removals as changes of the whole array', () => {
    expect(at({ op: 'add', path: '/items/0', value: 1 }, '/items/5')).toBe(true);
    expect(at({ op: 'remove', path: '/items/2' }, '/items/5/done')).toBe(true);
    expect(at({ op: 'move', from: '/a/0', path: '/b' }, '/a/3')).toBe(true);
    expect(at({ op: 'add', path: '/items/0', value: 1 }, '/title')).toBe(false);
  });
});
