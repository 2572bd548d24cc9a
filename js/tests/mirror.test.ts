import { describe, expect, it, vi } from 'vitest';
import { type MirrorError, type Operation, Mirror, PatchError, anywidgetModel, applyPatch } from '../src/core';

interface Sent {
  data: Record<string, unknown>;
  buffers?: ArrayBuffer[];
}

function setup(state: Record<string, unknown> = { count: 0, title: 'Today', items: [] }, version = 0) {
  const sent: Sent[] = [];
  const mirror = new Mirror({
    modelId: 'm1',
    clientId: 'c',
    state,
    version,
    send: (data, buffers) => sent.push(buffers ? { data, buffers } : { data })
  });
  const changes: Operation[][] = [];
  const errors: MirrorError[] = [];
  mirror.on('change', (ops: Operation[]) => changes.push(structuredClone(ops)));
  mirror.on('error', (error: MirrorError) => errors.push(error));
  /** A kernel patch message with the next version. */
  const kernel = (ops: Operation[], ack: string[] = []) =>
    mirror.handleMessage({ method: 'patch', version: mirror.version + 1, ops, ack });
  return { mirror, sent, changes, errors, kernel };
}

const replace = (path: string, value: unknown): Operation => ({ op: 'replace', path, value });

describe('Mirror: local edits', () => {
  it('applies an edit at once and sends it', () => {
    const { mirror, sent, changes } = setup();
    const onCount = vi.fn();
    mirror.on('change:count', onCount);
    mirror.patch([replace('/count', 1)]);
    expect(mirror.get('count')).toBe(1);
    expect(mirror.version).toBe(0);
    expect(sent).toEqual([
      { data: { method: 'patch', id: 'c:1', base: 0, ops: [replace('/count', 1)] } }
    ]);
    expect(changes).toEqual([[replace('/count', 1)]]);
    expect(onCount).toHaveBeenCalledWith(1);
  });

  it('changes nothing and sends nothing when the ops do not apply', () => {
    const { mirror, sent, changes } = setup();
    const before = mirror.state;
    expect(() => mirror.patch([replace('/count', 1), { op: 'remove', path: '/nope' }])).toThrow(PatchError);
    expect(mirror.state).toBe(before);
    expect(mirror.get('count')).toBe(0);
    expect(sent).toEqual([]);
    expect(changes).toEqual([]);
  });

  it('refuses private fields and the whole state locally', () => {
    const { mirror, sent } = setup({ _esm: '', a: 1 });
    for (const ops of [
      [replace('/_esm', 'x')],
      [{ op: 'copy', from: '/_esm', path: '/a' }],
      [replace('', {})]
    ] as Operation[][]) {
      expect(() => mirror.patch(ops)).toThrow(expect.objectContaining({ code: 'forbidden' }));
    }
    expect(() => anywidgetModel(mirror).set('_css', 'x')).toThrow(PatchError);
    expect(sent).toEqual([]);
  });

  it('keeps its own copy of the ops', () => {
    const { mirror, sent, kernel } = setup();
    const value = { text: 'milk' };
    mirror.patch([{ op: 'add', path: '/items/-', value }]);
    value.text = 'changed';
    kernel([replace('/title', 'Tomorrow')]); // replays the pending edit
    expect(mirror.get('items')).toEqual([{ text: 'milk' }]);
    expect(sent[0].data.ops).toEqual([{ op: 'add', path: '/items/-', value: { text: 'milk' } }]);
  });

  it('set is remembered until save_changes, which sends a diff', () => {
    const { mirror, sent } = setup({ count: 0, items: [{ done: false }, { done: false }] });
    const model = anywidgetModel(mirror);
    model.set('count', 5);
    model.set('items', [{ done: false }, { done: true }]);
    expect(model.get('count')).toBe(5);
    expect(mirror.state.count).toBe(0);
    expect(sent).toEqual([]);
    model.save_changes();
    expect(sent[0].data.ops).toEqual([replace('/count', 5), replace('/items/1/done', true)]);
    model.save_changes(); // nothing left
    expect(sent.length).toBe(1);
  });
});

describe('Mirror: kernel answers', () => {
  it('drops an acknowledged edit without a visible change', () => {
    const { mirror, sent, changes, kernel } = setup();
    mirror.patch([replace('/count', 1)]);
    kernel([replace('/count', 1)], ['c:1']);
    expect(mirror.version).toBe(1);
    expect(mirror.get('count')).toBe(1);
    expect(changes.length).toBe(1); // only the optimistic one
    mirror.patch([replace('/count', 2)]); // nothing in flight: sent at once, on the new base
    expect(sent[1].data).toMatchObject({ id: 'c:2', base: 1 });
  });

  it('shows what the kernel made of an edit', () => {
    const { mirror, changes, kernel } = setup();
    mirror.patch([replace('/count', 150)]);
    kernel([replace('/count', 100)], ['c:1']);
    expect(mirror.get('count')).toBe(100);
    expect(changes).toEqual([[replace('/count', 150)], [replace('/count', 100)]]);
  });

  it('replays pending edits on top of concurrent kernel changes', () => {
    const { mirror, changes, kernel } = setup({ count: 0, title: 'a', items: ['x', 'y'] });
    mirror.patch([replace('/count', 1)]);
    kernel([replace('/title', 'b'), { op: 'add', path: '/items/-', value: 'z' }]);
    expect(mirror.state).toEqual({ count: 1, title: 'b', items: ['x', 'y', 'z'] });
    expect(changes[1]).toEqual([replace('/title', 'b'), { op: 'add', path: '/items/-', value: 'z' }]);
    // the kernel changes the field the pending edit touches: visible keeps the edit on top
    kernel([replace('/count', 7)]);
    expect(mirror.get('count')).toBe(1);
    expect(changes.length).toBe(2);
    kernel([replace('/count', 1)], ['c:1']);
    expect(mirror.state).toEqual({ count: 1, title: 'b', items: ['x', 'y', 'z'] });
    expect(changes.length).toBe(2);
  });

  it('drops a pending edit that no longer applies, showing the kernel state', () => {
    const { mirror, changes, kernel } = setup({ items: ['x', 'y'] });
    mirror.patch([{ op: 'remove', path: '/items/1' }]);
    kernel([{ op: 'remove', path: '/items/0' }]);
    expect(mirror.get('items')).toEqual(['y']);
    expect(changes[1]).toEqual([replace('/items/0', 'y')]); // from ['x'] to ['y']
  });

  it('rolls back a rejected edit and reports it, with the edit queued behind it', () => {
    const { mirror, sent, changes, errors } = setup();
    mirror.patch([replace('/count', -1)]);
    mirror.patch([replace('/title', 'x')]); // queued behind the first: made on top of it
    mirror.handleMessage({ method: 'reject', id: 'c:1', version: 0, code: 'invalid', message: 'count must be >= 0' });
    expect(mirror.state).toEqual({ count: 0, title: 'Today', items: [] });
    expect(changes[2]).toEqual([replace('/count', 0), replace('/title', 'Today')]);
    expect(errors).toEqual([
      { id: 'c:1', code: 'invalid', message: 'count must be >= 0' },
      expect.objectContaining({ id: 'c:2', code: 'dropped' })
    ]);
    expect(sent.map(s => s.data.id)).toEqual(['c:1']);
  });

  it('drops queued edits that depended on a rejected one, without sending them', () => {
    const { mirror, sent, changes } = setup({ items: [] });
    mirror.patch([{ op: 'add', path: '/items/-', value: { done: false } }]);
    mirror.patch([replace('/items/0/done', true)]); // queued, builds on the first
    mirror.handleMessage({ method: 'reject', id: 'c:1', version: 0, code: 'invalid', message: 'no' });
    expect(mirror.state).toEqual({ items: [] });
    expect(changes[changes.length - 1]).toEqual([{ op: 'remove', path: '/items/0' }]);
    expect(sent.length).toBe(1);
  });

  it('reports kernel moves across fields that pending edits touch', () => {
    const { mirror, changes, kernel } = setup({ a: 1, b: 2, c: 3 });
    mirror.patch([replace('/c', 9)]);
    kernel([{ op: 'move', from: '/c', path: '/d' }]);
    expect(mirror.state).toEqual({ a: 1, b: 2, d: 3 }); // the pending edit no longer applies
    expect(changes[1]).toEqual([{ op: 'remove', path: '/c' }, { op: 'add', path: '/d', value: 3 }]);
    kernel([{ op: 'copy', from: '/a', path: '/e' }]);
    expect(changes[2]).toEqual([{ op: 'copy', from: '/a', path: '/e' }]);
  });

  it("ignores other frontends' rejections", () => {
    const { mirror, errors } = setup();
    mirror.patch([replace('/count', 1)]);
    mirror.handleMessage({ method: 'reject', id: 'other:1', version: 0, code: 'invalid', message: '' });
    expect(errors).toEqual([]);
    expect(mirror.get('count')).toBe(1);
  });

  it('sends one edit at a time and combines the ones made meanwhile', () => {
    const { mirror, sent, kernel } = setup({ count: 0, title: '', items: [] });
    mirror.patch([replace('/count', 1)]);
    mirror.patch([replace('/count', 2)]);
    mirror.patch([{ op: 'add', path: '/items/-', value: 'a' }]);
    mirror.patch([replace('/count', 3)]);
    expect(sent.length).toBe(1);
    kernel([replace('/count', 1)], ['c:1']);
    expect(sent.length).toBe(2);
    expect(sent[1].data).toEqual({
      method: 'patch',
      id: 'c:2',
      base: 1,
      ops: [replace('/count', 2), { op: 'add', path: '/items/-', value: 'a' }, replace('/count', 3)]
    });
    expect(mirror.state).toEqual({ count: 3, title: '', items: ['a'] });
  });

  it('sends a dragged value as one op', () => {
    const { mirror, sent, kernel } = setup();
    mirror.patch([replace('/count', 1)]);
    for (let i = 2; i < 50; i++) {
      mirror.patch([replace('/count', i)]);
    }
    kernel([replace('/count', 1)], ['c:1']);
    expect(sent[1].data.ops).toEqual([replace('/count', 49)]);
    expect(mirror.get('count')).toBe(49);
  });
});

describe('Mirror: staying in sync', () => {
  it('asks for the state on a version gap and ignores patches until it comes', () => {
    const { mirror, sent, errors, changes } = setup();
    mirror.patch([replace('/count', 1)]); // in flight
    mirror.patch([replace('/title', 'mine')]); // queued
    mirror.handleMessage({ method: 'patch', version: 3, ops: [replace('/title', 'x')], ack: [] });
    expect(sent.map(s => s.data.method)).toEqual(['patch', 'sync']);
    expect(errors).toEqual([expect.objectContaining({ id: null, code: 'out_of_sync' })]);
    mirror.handleMessage({ method: 'patch', version: 4, ops: [replace('/title', 'y')], ack: [] });
    expect(sent.length).toBe(2);
    expect(mirror.get('title')).toBe('mine');

    mirror.handleMessage({ method: 'state', version: 4, state: { count: 1, title: 'y', items: ['k'] } });
    expect(mirror.version).toBe(4);
    expect(mirror.state).toEqual({ count: 1, title: 'mine', items: ['k'] });
    expect(changes[changes.length - 1]).toEqual([{ op: 'add', path: '/items/0', value: 'k' }]);
    // the in-flight edit's answer is still on its way; then the queued one goes, with the
    // base it was made on, so the kernel can check it against what changed since
    expect(sent.length).toBe(2);
    mirror.handleMessage({ method: 'reject', id: 'c:1', version: 4, code: 'conflict', message: 'late' });
    expect(sent.length).toBe(2); // dropped with it: it was made on top of c:1
    expect(errors.map(e => e.code)).toEqual(['out_of_sync', 'conflict', 'dropped']);
  });

  it('asks for the state when a kernel patch does not apply or a message is malformed', () => {
    const { mirror, sent, errors } = setup();
    mirror.handleMessage({ method: 'patch', version: 1, ops: [{ op: 'remove', path: '/nope' }], ack: [] });
    expect(mirror.version).toBe(0);
    expect(sent).toEqual([{ data: { method: 'sync' } }]);
    expect(errors[0].code).toBe('out_of_sync');

    const other = setup();
    other.mirror.handleMessage({ method: 'patch', version: 1, ops: 'nope', ack: [] });
    other.mirror.handleMessage({ method: 'bogus' });
    other.mirror.handleMessage({ method: 'patch', version: 1, ops: [replace('nope', 1)], ack: [] });
    other.mirror.handleMessage({ method: 'patch', version: 1, ops: [replace('', {})], ack: [] });
    other.mirror.handleMessage({ method: 'state', version: 1, state: { b: null }, buffer_paths: [['state', 'b']] });
    expect(other.sent).toEqual([{ data: { method: 'sync' } }]); // one sync is enough
    expect(other.errors.map(e => e.code)).toEqual(Array(5).fill('bad_message'));
    expect(other.mirror.state).toEqual({ count: 0, title: 'Today', items: [] });
  });

  it('applies a state reply to another frontend only if it is new', () => {
    const { mirror, changes } = setup({ count: 0 });
    mirror.handleMessage({ method: 'state', version: 0, state: { count: 5 } });
    expect(mirror.get('count')).toBe(0);
    expect(changes).toEqual([]);
  });
});

describe('Mirror: cost follows the change', () => {
  const rows = () => Array.from({ length: 10_000 }, (_, i) => ({ id: i, done: false }));

  it('applies kernel ops in place when nothing is pending', () => {
    const { mirror, kernel, changes } = setup({ items: rows(), count: 0 });
    const state = mirror.state;
    const items = mirror.get('items') as { done: boolean }[];
    kernel([replace('/items/5/done', true)]);
    expect(mirror.state).toBe(state);
    expect(mirror.get('items')).toBe(items);
    expect(items[5].done).toBe(true);
    expect(changes).toEqual([[replace('/items/5/done', true)]]);
  });

  it('does not copy fields no pending edit touches', () => {
    const { mirror, kernel, changes } = setup({ items: rows(), count: 0 });
    const items = mirror.get('items');
    mirror.patch([replace('/count', 1)]);
    expect(mirror.get('items')).toBe(items);
    kernel([replace('/items/5/done', true)]);
    expect(mirror.get('items')).toBe(items);
    expect(changes[1]).toEqual([replace('/items/5/done', true)]);
  });
});

describe('Mirror: with an edit pending, cost follows the change', () => {
  /** 10,000 rows behind a proxy that counts every element read: a copy or a diff of the list reads them all. */
  const countedRows = () => {
    const reads = { count: 0 };
    const rows = Array.from({ length: 10_000 }, (_, i) => ({ id: i, done: false }));
    const items = new Proxy(rows, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^[0-9]+$/.test(key)) {
          reads.count++;
        }
        return Reflect.get(target, key, receiver);
      }
    });
    return { items, reads };
  };

  it('edits, applies kernel patches and takes answers without reading the rest of the list', () => {
    const { items, reads } = countedRows();
    const { mirror, kernel, changes } = setup({ items, count: 0 });
    mirror.patch([replace('/items/5/done', true)]);
    kernel([replace('/items/7/done', true)]); // elsewhere in the same list
    kernel([{ op: 'add', path: '/items/10000', value: { id: 10000, done: false } }]); // an append
    mirror.patch([replace('/items/9/done', true)]); // queued
    kernel([replace('/items/5/done', true)], ['c:1']); // the answer, as the edit was
    kernel([replace('/items/9/done', 'coerced')], ['c:2']); // an answer that differs
    expect(reads.count).toBeLessThan(100);
    expect(mirror.get('items')).toBe(items); // one document: no field was copied
    const shown = (mirror.get('items') as { done: unknown }[]).slice(0, 10).map(row => row.done);
    expect(shown).toEqual([false, false, false, false, false, true, false, true, false, 'coerced']);
    expect(changes.slice(1)).toEqual([
      [replace('/items/7/done', true)],
      [{ op: 'add', path: '/items/10000', value: { id: 10000, done: false } }],
      [replace('/items/9/done', true)],
      [replace('/items/9/done', 'coerced')]
    ]);
  });

  it('applies a kernel patch elsewhere without undoing and redoing the pending edit', () => {
    const writes: string[] = [];
    const row = new Proxy(
      { id: 5, done: false },
      {
        set(target, key, value, receiver) {
          writes.push(String(key));
          return Reflect.set(target, key, value, receiver);
        }
      }
    );
    const { mirror, kernel, changes } = setup({ items: [{ id: 0 }, row, { id: 2 }], count: 0 });
    mirror.patch([replace('/items/1/done', true)]);
    kernel([replace('/items/2/id', 7)]);
    kernel([{ op: 'add', path: '/items/-', value: { id: 3 } }]);
    kernel([replace('/count', 1)]);
    expect(writes).toEqual(['done']); // the edit itself, once
    expect(changes.slice(1)).toEqual([
      [replace('/items/2/id', 7)],
      [{ op: 'add', path: '/items/-', value: { id: 3 } }],
      [replace('/count', 1)]
    ]);
    kernel([replace('/items/1/done', true)], ['c:1']);
    expect(mirror.get('items')).toEqual([{ id: 0 }, { id: 5, done: true }, { id: 7 }, { id: 3 }]);
  });

  it('reports the change exactly when a kernel insert moves the row a pending edit is on', () => {
    const { mirror, kernel, changes } = setup({ items: [{ id: 0 }, { id: 1 }, { id: 2 }], count: 0 });
    let shown = structuredClone(mirror.state);
    mirror.on('change', (ops: Operation[]) => (shown = applyPatch(shown, ops) as typeof shown));
    mirror.patch([{ op: 'add', path: '/items/1/done', value: true }]);
    kernel([{ op: 'add', path: '/items/0', value: { id: -1 } }]);
    expect(mirror.get('items')).toEqual([{ id: -1 }, { id: 0, done: true }, { id: 1 }, { id: 2 }]); // replayed as sent
    expect(shown).toEqual(mirror.state);
    expect(changes.length).toBe(2);
  });
});

describe('Mirror: binary values and custom messages', () => {
  it('sends binary values as buffers and receives them as DataViews', () => {
    const { mirror, sent, kernel } = setup({ image: null });
    mirror.patch([replace('/image', new Uint8Array([1, 2]))]);
    expect(sent[0].data).toMatchObject({ ops: [replace('/image', null)], buffer_paths: [['ops', 0, 'value']] });
    expect(Array.from(new Uint8Array(sent[0].buffers![0]))).toEqual([1, 2]);

    kernel([replace('/image', null)], ['c:1']);
    mirror.handleMessage(
      { method: 'patch', version: 2, ops: [replace('/image', null)], ack: [], buffer_paths: [['ops', 0, 'value']] },
      [new Uint8Array([3]).buffer]
    );
    const image = mirror.get('image') as DataView;
    expect(image).toBeInstanceOf(DataView);
    expect(image.getUint8(0)).toBe(3);
  });

  it('carries custom messages with buffers both ways', () => {
    const { mirror, sent } = setup();
    const received = vi.fn();
    mirror.on('msg:custom', received);
    mirror.handleMessage({ method: 'custom', content: { kind: 'ping' } }, [new Uint8Array([7]).buffer]);
    expect(received).toHaveBeenCalledWith({ kind: 'ping' }, [expect.any(DataView)]);
    expect((received.mock.calls[0][1][0] as DataView).getUint8(0)).toBe(7);

    anywidgetModel(mirror).send({ kind: 'pong' }, undefined, [new DataView(new Uint8Array([8, 9]).buffer)]);
    expect(sent[0].data).toEqual({ method: 'custom', content: { kind: 'pong' } });
    expect(Array.from(new Uint8Array(sent[0].buffers![0]))).toEqual([8, 9]);
  });
});

describe('Mirror: events and lifecycle', () => {
  it('removes all listeners of a context at once', () => {
    const { mirror } = setup();
    const view = {};
    const mine = vi.fn();
    const others = vi.fn();
    mirror.on('change:count change:title', mine, view);
    mirror.on('msg:custom', mine, view);
    mirror.onPath('/count', mine, view);
    mirror.on('change:count', others);
    mirror.off(null, null, view);
    mirror.patch([replace('/count', 1), replace('/title', 'x')]);
    mirror.handleMessage({ method: 'custom', content: 1 });
    expect(mine).not.toHaveBeenCalled();
    expect(others).toHaveBeenCalledTimes(1);
  });

  it('off narrows by event and callback', () => {
    const { mirror } = setup();
    const a = vi.fn();
    const b = vi.fn();
    mirror.on('change:count', a);
    mirror.on('change:count', b);
    mirror.off('change:count', a);
    mirror.patch([replace('/count', 1)]);
    expect(a).not.toHaveBeenCalled();
    expect(b).toHaveBeenCalledTimes(1);
  });

  it('onPath fires for changes at, under or above the path', () => {
    const { mirror, kernel } = setup({ items: [{ done: false }, { done: false }], title: '' });
    const seen: unknown[] = [];
    const stop = mirror.onPath('/items/1/done', value => seen.push(value));
    kernel([replace('/title', 'x')]);
    kernel([replace('/items/1/done', true)]);
    kernel([{ op: 'remove', path: '/items/0' }]);
    stop();
    kernel([replace('/items', [])]);
    expect(seen).toEqual([true, undefined]);
  });

  it('closes', () => {
    const { mirror } = setup();
    const closed = vi.fn();
    mirror.on('close', closed);
    mirror.handleClose();
    expect(closed).toHaveBeenCalledTimes(1);
    expect(mirror.closed).toBe(true);
    expect(() => mirror.patch([replace('/count', 1)])).toThrow(/closed/);
    expect(() => anywidgetModel(mirror).send({})).toThrow(/closed/);
    mirror.handleMessage({ method: 'patch', version: 1, ops: [replace('/count', 2)], ack: [] });
    expect(mirror.get('count')).toBe(0);
  });

  it('reports every edit still waiting for an answer as closed, before close', () => {
    const { mirror, errors } = setup();
    const events: string[] = [];
    mirror.on('error', (error: MirrorError) => events.push(`${error.code} ${error.id}`));
    mirror.on('close', () => events.push('close'));
    mirror.patch([replace('/count', 1)]); // in flight
    mirror.patch([replace('/title', 'x')]); // queued behind it
    mirror.handleClose();
    expect(events).toEqual(['closed c:1', 'closed c:2', 'close']);
    expect(errors.map(error => error.code)).toEqual(['closed', 'closed']);
    mirror.handleClose();
    expect(events).toHaveLength(3);
  });

  it('resolves model references through getModel', async () => {
    const child = setup().mirror;
    const getModel = vi.fn(async (id: string) => {
      expect(id).toBe('m2');
      return child;
    });
    const parent = new Mirror({ modelId: 'm1', state: {}, version: 0, send: () => {}, getModel });
    expect(await parent.widget_manager.get_model('syncstate:m2')).toBe(child);
    expect(await parent.widget_manager.get_model('m2')).toBe(child);
    expect(parent.clientId).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe('Mirror: the two frontend rules of docs/protocol.md', () => {
  it('rebases a queued edit only when the answer moved nothing it touches', () => {
    const { mirror, sent, kernel } = setup({ count: 0, title: 'Today', items: [] });
    mirror.patch([replace('/count', 1)]);
    mirror.patch([replace('/title', 'a')]); // queued, made on version 0
    kernel([replace('/count', 1), replace('/items', ['x'])], ['c:1']); // /items: not the edit's
    expect(sent[1].data).toMatchObject({ id: 'c:2', base: 1 });
    mirror.patch([replace('/items/0', 'y')]); // queued behind c:2, made on version 1
    kernel([replace('/title', 'a'), { op: 'add', path: '/items/0', value: 'z' }], ['c:2']);
    expect(sent[2].data).toMatchObject({ id: 'c:3', base: 1 }); // /items/0 shifted: no rebase
  });

  it('drops the queued edit with the rejected one and reports both', () => {
    const { mirror, sent, errors } = setup({ count: 0, title: 'Today', items: [] });
    mirror.patch([{ op: 'add', path: '/items/0', value: 'first' }]);
    mirror.patch([replace('/items/0', 'edited')]); // made on top of c:1
    mirror.handleMessage({ method: 'reject', id: 'c:1', version: 0, code: 'invalid', message: 'no' });
    expect(errors.map(e => [e.id, e.code])).toEqual([
      ['c:1', 'invalid'],
      ['c:2', 'dropped']
    ]);
    expect(sent.length).toBe(1);
    expect(mirror.state).toEqual({ count: 0, title: 'Today', items: [] });
  });

  it('reports an unsent edit that no longer applies instead of losing it', () => {
    const { mirror, sent, errors, kernel } = setup({ count: 0, title: 'Today', items: ['a'] });
    mirror.patch([replace('/count', 1)]);
    mirror.patch([replace('/items/0', 'b')]);
    kernel([{ op: 'remove', path: '/items/0' }]);
    expect(errors).toEqual([expect.objectContaining({ id: 'c:2', code: 'dropped' })]);
    kernel([replace('/count', 1)], ['c:1']);
    expect(sent.length).toBe(1);
    expect(mirror.state).toEqual({ count: 1, title: 'Today', items: [] });
  });
});
