// @vitest-environment jsdom
import React, { act } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import { Mirror, ViewScope } from '../src/core';
import { ModelContext, useModelState } from '../src/react';

(globalThis as Record<string, unknown>).IS_REACT_ACT_ENVIRONMENT = true;

function Counter() {
  const [count, setCount] = useModelState<number>('count');
  return <button onClick={() => setCount(count + 1)}>count {count}</button>;
}

let renders = 0;
function Title() {
  const [title] = useModelState<string>('title');
  renders += 1;
  return <h1>{title}</h1>;
}

const container = document.createElement('div');
afterEach(() => {
  container.textContent = '';
});

describe('useModelState', () => {
  it('reads a field, writes it with set + save_changes, and re-renders on change:<key>', async () => {
    const sent: Record<string, unknown>[] = [];
    const mirror = new Mirror({ modelId: 'm', clientId: 'c', state: { count: 0, title: 'a' }, version: 0, send: d => sent.push(d) });
    const root = createRoot(container);
    await act(async () => {
      root.render(
        <ModelContext.Provider value={new ViewScope().model(mirror)}>
          <Counter />
          <Title />
        </ModelContext.Provider>
      );
    });
    expect(container.querySelector('button')!.textContent).toBe('count 0');
    const titleRenders = renders;

    await act(async () => container.querySelector('button')!.click());
    expect(container.querySelector('button')!.textContent).toBe('count 1');
    expect(sent).toEqual([{ method: 'patch', id: 'c:1', base: 0, ops: [{ op: 'replace', path: '/count', value: 1 }] }]);
    expect(renders).toBe(titleRenders); // other fields' components stay put

    await act(async () =>
      mirror.handleMessage({ method: 'patch', version: 1, ops: [{ op: 'replace', path: '/title', value: 'b' }], ack: [] })
    );
    expect(container.querySelector('h1')!.textContent).toBe('b');
    await act(async () => root.unmount());
  });

  it('needs a provider', () => {
    const root = createRoot(container);
    const onError = (event: ErrorEvent) => event.preventDefault(); // keep jsdom from reporting it
    window.addEventListener('error', onError);
    const original = console.error;
    console.error = () => {};
    try {
      expect(() => act(() => root.render(<Counter />))).toThrow(/ModelContext/);
    } finally {
      console.error = original;
      window.removeEventListener('error', onError);
    }
  });
});
