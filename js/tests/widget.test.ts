/**
 * The widget bridge (js/src/widget): a model through a Jupyter widget manager, and the models
 * it holds. The kernel is played here by hand; tests/integration/test_widget.py and the Voila
 * tests in tests/browser prove the same through a real kernel and page.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import bridgeModule, { bridgeOf, CHILD_WIDGET_TIMEOUT_MS, type Bridge } from '../src/widget';

type Listener = (content: unknown, buffers?: unknown[]) => void;

/** What anywidget hands the module: one widget model of a widget manager. */
class FakeWidget {
  readonly sent: Record<string, unknown>[] = [];
  private listener: Listener = () => {};
  private dispose: () => void = () => {};

  constructor(
    readonly syncstateId: string,
    readonly widget_manager: object
  ) {}

  get(key: string): unknown {
    return key === 'syncstate_id' ? this.syncstateId : undefined;
  }

  send(content: unknown): void {
    this.sent.push(content as Record<string, unknown>);
  }

  on(event: string, callback: Listener): void {
    if (event === 'msg:custom') {
      this.listener = callback;
    }
  }

  /** A custom message from the kernel. */
  receive(content: unknown): void {
    this.listener(content, []);
  }

  /** anywidget runs `initialize` once per widget model, and its cleanup when the model goes. */
  start(): this {
    this.dispose = bridgeModule.initialize({ model: this });
    return this;
  }

  close(): void {
    this.dispose();
  }

  get bridge(): Bridge {
    const bridge = bridgeOf(this);
    if (bridge === undefined) {
      throw new Error('not initialized');
    }
    return bridge;
  }
}

const state = (fields: Record<string, unknown>) => ({ method: 'state', version: 0, state: fields, buffer_paths: [] });

/** Settles what is queued (promise callbacks), as the page's event loop would. */
const settle = () => new Promise(resolve => setTimeout(resolve, 0));

afterEach(() => {
  vi.useRealTimers();
});

describe('a child model through its parent widget', () => {
  it('is the child widget the kernel opens and names', async () => {
    const manager = {};
    const parent = new FakeWidget('parent', manager).start();
    const asked = parent.bridge.child('kid');
    expect(parent.sent).toEqual([{ method: 'child', model_id: 'kid' }]);
    const kid = new FakeWidget('kid', manager).start(); // its comm_open comes first
    parent.receive({ method: 'child', model_id: 'kid', widget: 'w-kid' });
    await settle();
    expect(kid.sent).toEqual([{ method: 'sync' }]);
    kid.receive(state({ n: 3 }));
    expect((await asked).get('n')).toBe(3);
  });

  it('fails with the kernel\'s reason when the parent holds no such model', async () => {
    const parent = new FakeWidget('parent', {}).start();
    const asked = parent.bridge.child('stranger');
    parent.receive({ method: 'child', model_id: 'stranger', message: 'syncstate: this model holds no live model' });
    await expect(asked).rejects.toThrow('holds no live model');
  });

  it('fails, rather than waits forever, when the parent widget closes before the answer', async () => {
    const parent = new FakeWidget('parent', {}).start();
    const asked = parent.bridge.child('kid');
    parent.close();
    await expect(asked).rejects.toThrow('not available any more');
  });

  it('fails at once when the parent widget closes while the child widget is awaited', async () => {
    const parent = new FakeWidget('parent', {}).start();
    const asked = parent.bridge.child('kid');
    parent.receive({ method: 'child', model_id: 'kid', widget: 'w-kid' }); // no widget starts
    await settle();
    parent.close();
    await expect(asked).rejects.toThrow('not available any more');
  });

  it('fails after a while when the child widget never starts in this page', async () => {
    vi.useFakeTimers();
    const parent = new FakeWidget('parent', {}).start();
    const asked = parent.bridge.child('kid');
    const outcome = asked.then(
      () => 'resolved',
      (error: Error) => error.message
    );
    parent.receive({ method: 'child', model_id: 'kid', widget: 'w-kid' }); // but no widget starts
    await vi.advanceTimersByTimeAsync(CHILD_WIDGET_TIMEOUT_MS - 1000);
    const early = await Promise.race([outcome, Promise.resolve('pending')]);
    expect(early).toBe('pending');
    await vi.advanceTimersByTimeAsync(2000);
    expect(await outcome).toMatch(/widget of model kid did not start in this page/);
  });

  it('a widget that starts late but in time is used', async () => {
    vi.useFakeTimers();
    const manager = {};
    const parent = new FakeWidget('parent', manager).start();
    const asked = parent.bridge.child('kid');
    parent.receive({ method: 'child', model_id: 'kid', widget: 'w-kid' });
    await vi.advanceTimersByTimeAsync(CHILD_WIDGET_TIMEOUT_MS / 2);
    const kid = new FakeWidget('kid', manager).start();
    await vi.advanceTimersByTimeAsync(0);
    kid.receive(state({ n: 1 }));
    expect((await asked).get('n')).toBe(1);
  });
});

describe('a widget\'s own model', () => {
  it('asks for the state once, however many views wait', async () => {
    const widget = new FakeWidget('m', {}).start();
    const views = [widget.bridge.model(), widget.bridge.model()];
    expect(widget.sent).toEqual([{ method: 'sync' }]);
    widget.receive(state({ n: 7 }));
    const [a, b] = await Promise.all(views);
    expect(a).toBe(b);
    expect(a.get('n')).toBe(7);
  });

  it('fails the waiting views when the widget closes before its state came', async () => {
    const widget = new FakeWidget('m', {}).start();
    const view = widget.bridge.model();
    widget.close();
    await expect(view).rejects.toThrow('not available any more');
  });
});

describe('a closed widget', () => {
  it('refuses at once what is asked of it afterwards, and sends nothing', async () => {
    const widget = new FakeWidget('m', {}).start();
    const bridge = widget.bridge; // a view that still holds it
    widget.close();
    await expect(bridge.model()).rejects.toThrow('not available any more');
    await expect(bridge.child('kid')).rejects.toThrow('not available any more');
    expect(widget.sent).toEqual([]);
  });
});
