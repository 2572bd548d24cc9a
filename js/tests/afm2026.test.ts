// @vitest-environment jsdom
/**
 * anywidget's module API as of 2026 (v0.11): `signal`, exports from `initialize`, `host`, and
 * `experimental.invoke`; and views of a saved state.
 */
import { describe, expect, it, vi } from 'vitest';
import { type AFM, Mirror, loadModule, renderView, savedMirror, saveState, SAVED_STATE_MAX_CHARS, viewModule } from '../src/core';

/** Node cannot import Blob URLs; a data: URL evaluates the same source. */
const importData = (source: string) => import(/* @vite-ignore */ `data:text/javascript,${encodeURIComponent(source)}`);

function mirrorOf(modelId: string, state: Record<string, unknown>, children: Record<string, Mirror> = {}) {
  const sent: { data: Record<string, unknown>; buffers?: ArrayBuffer[] }[] = [];
  const mirror = new Mirror({
    modelId,
    clientId: 'page',
    state,
    version: 0,
    send: (data, buffers) => sent.push({ data, buffers }),
    getModel: async id => children[id] ?? Promise.reject(new Error(`no ${id}`))
  });
  return { mirror, sent };
}

/** anywidget's documented counter, as its getting-started page shows it (written here). */
const COUNTER = `
function render({ model, el }) {
  let button = document.createElement("button");
  button.innerHTML = \`count is \${model.get("value")}\`;
  button.addEventListener("click", () => {
    model.set("value", model.get("value") + 1);
    model.save_changes();
  });
  model.on("change:value", () => {
    button.innerHTML = \`count is \${model.get("value")}\`;
  });
  el.classList.add("counter-widget");
  el.appendChild(button);
}
export default { render };
`;

describe('anywidget documented examples', () => {
  it('the counter renders, edits through save_changes and follows kernel patches', async () => {
    const { mirror, sent } = mirrorOf('m', { value: 0 });
    const el = document.createElement('div');
    await renderView(await loadModule(COUNTER, importData), mirror, el);
    const button = el.querySelector('button')!;
    expect(button.innerHTML).toBe('count is 0');
    button.click();
    expect(button.innerHTML).toBe('count is 1');
    expect(sent[0].data).toMatchObject({ method: 'patch', ops: [{ op: 'replace', path: '/value', value: 1 }] });
    mirror.handleMessage({ method: 'patch', version: 1, ops: [{ op: 'replace', path: '/value', value: 7 }], ack: [sent[0].data.id] });
    expect(button.innerHTML).toBe('count is 7');
    expect(el.classList.contains('counter-widget')).toBe(true);
  });

  it('the signal example: listeners added with { signal } go with the view', async () => {
    const source = `export default {
      render({ model, el, signal }) {
        let clicks = 0;
        el.addEventListener("click", () => { clicks += 1; el.dataset.clicks = String(clicks); }, { signal });
      },
    };`;
    const { mirror } = mirrorOf('m', {});
    const el = document.createElement('div');
    const remove = await renderView(await loadModule(source, importData), mirror, el);
    el.click();
    expect(el.dataset.clicks).toBe('1');
    remove();
    el.click();
    expect(el.dataset.clicks).toBe('1');
  });
});

describe('signal', () => {
  it('is aborted when the view is removed, and initialize gets one of its own', async () => {
    const signals: Record<string, AbortSignal> = {};
    const afm: AFM = {
      initialize: ({ signal }) => void (signals.initialize = signal),
      render: ({ signal }) => void (signals.render = signal)
    };
    const { mirror } = mirrorOf('m', {});
    const remove = await renderView(afm, mirror, document.createElement('div'));
    expect(signals.render.aborted).toBe(false);
    remove();
    expect(signals.render.aborted).toBe(true);
    expect(signals.initialize.aborted).toBe(false);
    mirror.handleClose();
    expect(signals.initialize.aborted).toBe(true);
  });
});

describe('host.getWidget', () => {
  const SLIDER = `export default () => ({
    initialize({ model }) {
      return { getValue: () => model.get("value") };
    },
    render({ model, el, signal }) {
      el.textContent = "slider " + model.get("value");
      signal.addEventListener("abort", () => { el.textContent = "slider gone"; });
    },
  });`;
  const DASHBOARD = `export default {
    async render({ model, el, signal, host }) {
      let child = await host.getWidget(model.get("control"));
      let div = document.createElement("div");
      el.appendChild(div);
      await child.render({ el: div, signal });
      el.dataset.value = String(child.exports.getValue());
    },
  };`;

  it('renders a child view with its exports, and removes it with the parent', async () => {
    const slider = mirrorOf('s1', { value: 50, _esm: SLIDER }).mirror;
    const { mirror } = mirrorOf('d1', { control: 'syncstate:s1', _esm: DASHBOARD }, { s1: slider });
    // The host loads the child's own `_esm`; in Node it is loaded ahead with a data: URL import.
    await viewModule(slider, importData);
    const el = document.createElement('div');
    const remove = await renderView(await viewModule(mirror, importData), mirror, el);
    expect(el.textContent).toBe('slider 50');
    expect(el.dataset.value).toBe('50');
    remove();
    expect(el.textContent).toBe('slider gone');
  });

  it('resolves anywidget-style references and refuses what is not one', async () => {
    const { mirror } = mirrorOf('p', {});
    let host: { getModel(ref: string): Promise<unknown> } | undefined;
    await renderView({ render: context => void (host = context.host) }, mirror, document.createElement('div'));
    await expect(host!.getModel('anywidget:nope')).rejects.toThrow('no nope');
    await expect(host!.getModel('')).rejects.toThrow('is not a model reference');
  });
});

describe('experimental.invoke', () => {
  async function invokeFrom(mirror: Mirror) {
    let invoke: ((name: string, msg?: unknown, options?: object) => Promise<[unknown, DataView[]]>) | undefined;
    await renderView({ render: ({ experimental }) => void (invoke = experimental.invoke) }, mirror, document.createElement('div'));
    return invoke!;
  }

  it('sends a request with an id and resolves to the reply value and buffers', async () => {
    const { mirror, sent } = mirrorOf('m', {});
    const invoke = await invokeFrom(mirror);
    const seenByViews: unknown[] = [];
    await renderView({ render: ({ model }) => model.on('msg:custom', (c: unknown) => seenByViews.push(c)) }, mirror, document.createElement('div'));
    const answer = invoke('_echo', 'hello', { buffers: [new Uint8Array([1, 2])] });
    const request = sent[0].data as { method: string; content: { syncstate: string; id: string; name: string; msg: unknown } };
    expect(request.method).toBe('custom');
    expect(request.content).toMatchObject({ syncstate: 'invoke', name: '_echo', msg: 'hello' });
    expect(new Uint8Array(sent[0].buffers![0])).toEqual(new Uint8Array([1, 2]));
    // Another page's reply is not ours.
    mirror.handleMessage({ method: 'custom', content: { syncstate: 'invoke-reply', id: 'other:invoke:1', ok: true, msg: 'x' } });
    mirror.handleMessage({ method: 'custom', content: { syncstate: 'invoke-reply', id: request.content.id, ok: true, msg: 'HELLO' } }, [
      new DataView(new Uint8Array([9]).buffer)
    ]);
    const [msg, buffers] = await answer;
    expect(msg).toBe('HELLO');
    expect(buffers[0].getUint8(0)).toBe(9);
    expect(seenByViews).toEqual([]);
  });

  it('rejects with the kernel error, on abort, and when the model closes', async () => {
    const { mirror, sent } = mirrorOf('m', {});
    const invoke = await invokeFrom(mirror);
    const failing = invoke('broken');
    const id = (sent[0].data.content as { id: string }).id;
    mirror.handleMessage({ method: 'custom', content: { syncstate: 'invoke-reply', id, ok: false, code: 'internal', message: 'ValueError: no' } });
    await expect(failing).rejects.toThrow('ValueError: no');

    const controller = new AbortController();
    const aborted = invoke('slow', null, { signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toThrow('aborted');

    const pending = invoke('slow');
    mirror.handleClose();
    await expect(pending).rejects.toThrow('closed');
  });
});

describe('saved views', () => {
  it('a saved state renders read-only: edits are refused and reported, nothing is sent', async () => {
    const live = mirrorOf('m', { value: 3, image: new Uint8Array([1, 2, 3]), _esm: COUNTER }).mirror;
    const saved = JSON.parse(JSON.stringify(saveState(live)));
    expect(saved.state.value).toBe(3);
    expect(saved.buffer_paths).toEqual([['image']]);
    const mirror = savedMirror('m', saved)!;
    expect((mirror.get('image') as DataView).getUint8(2)).toBe(3);
    const refused: string[] = [];
    const el = document.createElement('div');
    await renderView(await loadModule(COUNTER, importData), mirror, el, { refuse: what => refused.push(what) });
    el.querySelector('button')!.click();
    expect(refused).toEqual(['save_changes']);
    expect(el.querySelector('button')!.innerHTML).toBe('count is 3');
  });

  it('the models a view holds are saved with it, and its saved children render', async () => {
    const CHILD = 'export default { render({ model, el }) { el.textContent = "child " + model.get("value"); } };';
    const PARENT = `export default { async render({ model, el, host }) {
      for (const ref of model.get("items").slice(0, 2)) {
        const slot = document.createElement("span");
        el.append(slot);
        await (await host.getWidget(ref)).render({ el: slot });
      }
    } };`;
    const live: Record<string, Mirror> = {};
    live.leaf = mirrorOf('leaf', { value: 2, _esm: CHILD }).mirror;
    live.inner = mirrorOf('inner', { value: 1, again: 'syncstate:leaf', _esm: CHILD }).mirror;
    const top = mirrorOf('top', { items: ['syncstate:inner', 'syncstate:leaf', 'syncstate:gone'], _esm: PARENT });
    const saved = JSON.parse(JSON.stringify(saveState(top.mirror, id => live[id])));
    expect(Object.keys(saved.models).sort()).toEqual(['inner', 'leaf']); // the unknown one is left out
    expect(saved.models.inner.state.again).toBe('syncstate:leaf');

    const mirror = savedMirror('top', saved)!;
    const leaf = await mirror.widget_manager.get_model('leaf');
    expect(await mirror.widget_manager.get_model('syncstate:leaf')).toBe(leaf); // one mirror per model
    await expect(mirror.widget_manager.get_model('gone')).rejects.toThrow('was not saved with this view');
    // The host loads each child's own `_esm`; in Node it is loaded ahead with a data: URL import.
    await viewModule(leaf, importData);
    await viewModule(await mirror.widget_manager.get_model('inner'), importData);
    const el = document.createElement('div');
    await renderView(await loadModule(PARENT, importData), mirror, el, { refuse: () => undefined });
    expect(el.textContent).toBe('child 1child 2');
  });

  it('a state over the cap is not saved, and says so', () => {
    const { mirror } = mirrorOf('m', { text: 'x'.repeat(4_000_001) });
    expect(saveState(mirror)).toEqual({ state_omitted: 'too_large' });
    expect(savedMirror('m', { state_omitted: 'too_large' })).toBeNull();
  });

  it('a state just under the cap is saved: the measure before copying never overstates', () => {
    const rows = Array.from({ length: 40_000 }, (_, i) => ({ id: i, label: `row ${i}`, tags: [true, null, 1.5] }));
    const { mirror } = mirrorOf('m', { rows, text: '' });
    const rest = SAVED_STATE_MAX_CHARS - JSON.stringify(saveState(mirror)).length;
    mirror.handleMessage({ method: 'patch', version: 1, ops: [{ op: 'replace', path: '/text', value: 'x'.repeat(rest) }] });
    expect(JSON.stringify(saveState(mirror)).length).toBe(SAVED_STATE_MAX_CHARS);
    mirror.handleMessage({ method: 'patch', version: 2, ops: [{ op: 'replace', path: '/text', value: 'x'.repeat(rest + 1) }] });
    expect(saveState(mirror)).toEqual({ state_omitted: 'too_large' });
  });

  it('models held that are under the cap each but over it together are not saved, nor encoded', () => {
    const a = mirrorOf('a', { text: 'x'.repeat(2_100_000) }).mirror;
    const b = mirrorOf('b', { text: 'y'.repeat(2_100_000) }).mirror;
    const { mirror } = mirrorOf('top', { kids: ['syncstate:a', 'syncstate:b'] });
    const known: Record<string, Mirror> = { a, b };
    const reads = vi.spyOn(JSON, 'stringify');
    expect(saveState(mirror, id => known[id])).toEqual({ state_omitted: 'too_large' });
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();
    expect(Object.keys(saveState(mirror, id => (id === 'a' ? a : undefined)).models ?? {})).toEqual(['a']);
  });

  it('a big state is found over the cap without being copied', () => {
    const rows = Array.from({ length: 1_000_000 }, (_, i) => ({ id: i, label: `row ${i}` }));
    const { mirror } = mirrorOf('m', { rows });
    const reads = vi.spyOn(JSON, 'stringify');
    expect(saveState(mirror)).toEqual({ state_omitted: 'too_large' });
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();
  });
});
