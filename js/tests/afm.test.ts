// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Operation, Mirror, loadModule, renderView } from '../src/core';

/** Node cannot import Blob URLs; a data: URL evaluates the same source. */
const importData = (source: string) => import(/* @vite-ignore */ `data:text/javascript,${encodeURIComponent(source)}`);

const COUNTER = `
let initialized = 0;
export default {
  initialize({ model }) {
    initialized += 1;
    model.on('change:count', () => { globalThis.__initSeen = (globalThis.__initSeen ?? 0) + 1; });
    return () => { globalThis.__initCleaned = true; };
  },
  render({ model, el }) {
    const button = document.createElement('button');
    const show = () => { button.textContent = 'count ' + model.get('count') + ' (init ' + initialized + ')'; };
    show();
    button.addEventListener('click', () => {
      model.set('count', model.get('count') + 1);
      model.save_changes();
    });
    model.on('change:count', show);
    el.appendChild(button);
    return () => { el.textContent = 'removed'; };
  }
};
`;

function mirrorWith(state: Record<string, unknown>, getModel?: (id: string) => Promise<Mirror>) {
  const sent: Record<string, unknown>[] = [];
  const mirror = new Mirror({ modelId: 'm', clientId: 'c', state, version: 0, send: data => sent.push(data), getModel });
  const kernel = (ops: Operation[], ack: string[] = []) =>
    mirror.handleMessage({ method: 'patch', version: mirror.version + 1, ops, ack });
  return { mirror, sent, kernel };
}

afterEach(() => {
  vi.restoreAllMocks();
  const g = globalThis as Record<string, unknown>;
  delete g.__initSeen;
  delete g.__initCleaned;
});

describe('loadModule', () => {
  it('accepts a default object, a default factory and named exports', async () => {
    const shapes = [
      'export default { render() {}, initialize() {} }',
      'export default async () => ({ render() {}, initialize() {} })',
      'export function render() {} export function initialize() {}'
    ];
    for (const source of shapes) {
      const afm = await loadModule(source, importData);
      expect(typeof afm.render).toBe('function');
      expect(typeof afm.initialize).toBe('function');
    }
    const renderOnly = await loadModule('export default () => ({ render() {} })', importData);
    expect(renderOnly.initialize).toBeUndefined();
  });

  it('refuses a module with neither render nor initialize', async () => {
    await expect(loadModule('export const x = 1', importData)).rejects.toThrow(TypeError);
  });

  it('imports through a Blob URL by default, and revokes it', async () => {
    const source = 'export const render = () => {}';
    let blob: Blob | undefined;
    // jsdom has no object URLs; this one yields a data: URL of the same source
    URL.createObjectURL = (b: Blob) => {
      blob = b;
      return `data:text/javascript,${encodeURIComponent(source)}`;
    };
    const revoke = vi.fn();
    URL.revokeObjectURL = revoke;
    const afm = await loadModule(source);
    expect(typeof afm.render).toBe('function');
    expect(blob?.type).toBe('text/javascript');
    expect(blob?.size).toBe(source.length);
    expect(revoke).toHaveBeenCalledWith(expect.stringMatching(/^data:/));
    Reflect.deleteProperty(URL, 'createObjectURL');
    Reflect.deleteProperty(URL, 'revokeObjectURL');
  });
});

describe('renderView', () => {
  it('runs an anywidget module: initialize once, render per view, edits through the model', async () => {
    const afm = await loadModule(COUNTER, importData);
    const { mirror, sent, kernel } = mirrorWith({ count: 0 });
    const el1 = document.createElement('div');
    const el2 = document.createElement('div');
    const remove1 = await renderView(afm, mirror, el1);
    const remove2 = await renderView(afm, mirror, el2);
    expect(el1.textContent).toBe('count 0 (init 1)');

    el1.querySelector('button')!.click();
    expect(sent).toEqual([
      { method: 'patch', id: 'c:1', base: 0, ops: [{ op: 'replace', path: '/count', value: 1 }] }
    ]);
    expect(el2.textContent).toBe('count 1 (init 1)');

    remove1();
    remove1(); // idempotent
    expect(el1.textContent).toBe('removed');
    kernel([{ op: 'replace', path: '/count', value: 5 }], ['c:1']);
    expect(el1.textContent).toBe('removed'); // its listener is gone
    expect(el2.textContent).toBe('count 5 (init 1)');

    remove2();
    const g = globalThis as Record<string, unknown>;
    expect(g.__initSeen).toBe(2); // initialize's listener outlives the views
    mirror.handleClose();
    expect(g.__initCleaned).toBe(true);
  });

  it('scopes listeners added through patch, onPath and child models', async () => {
    const { mirror: child, kernel: childKernel } = mirrorWith({ value: 0 });
    const { mirror, kernel } = mirrorWith({ child: 'syncstate:k', n: 0 }, async () => child);
    const seen: string[] = [];
    const afm = await loadModule(
      `export async function render({ model, el }) {
        const child = await model.widget_manager.get_model(model.get('child'));
        child.on('change:value', v => globalThis.__seen.push('child ' + v));
        model.onPath('/n', v => globalThis.__seen.push('n ' + v));
        model.patch([{ op: 'replace', path: '/n', value: 1 }]);
      }`,
      importData
    );
    (globalThis as Record<string, unknown>).__seen = seen;
    const remove = await renderView(afm, mirror, document.createElement('div'));
    childKernel([{ op: 'replace', path: '/value', value: 1 }]);
    expect(seen).toEqual(['n 1', 'child 1']);
    remove();
    childKernel([{ op: 'replace', path: '/value', value: 2 }]);
    kernel([{ op: 'replace', path: '/n', value: 3 }], ['c:1']);
    expect(seen).toEqual(['n 1', 'child 1']);
  });

  it('drops the listeners of a view whose render failed', async () => {
    const afm = await loadModule(
      `export function render({ model }) { model.on('change:n', () => { throw new Error('listening'); }); throw new Error('boom'); }`,
      importData
    );
    const { mirror } = mirrorWith({ n: 0 });
    await expect(renderView(afm, mirror, document.createElement('div'))).rejects.toThrow('boom');
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    mirror.patch([{ op: 'replace', path: '/n', value: 1 }]);
    expect(error).not.toHaveBeenCalled();
  });
});
