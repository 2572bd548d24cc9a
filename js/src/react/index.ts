/**
 * React bindings: provide a model with `ModelContext`, read and write its fields with
 * `useModelState`. React is a peer dependency (JupyterLab shares one copy).
 */

import { createContext, useCallback, useContext, useSyncExternalStore } from 'react';
import type { AnyModel } from '../core/anywidget';

export const ModelContext = createContext<AnyModel | null>(null);

export function useModel(): AnyModel {
  const model = useContext(ModelContext);
  if (!model) {
    throw new Error('useModel() needs a ModelContext.Provider with a model');
  }
  return model;
}

/** A field of the model and its setter (set + save_changes); re-renders on `change:<key>`. */
export function useModelState<T>(key: string): [T, (value: T) => void] {
  const model = useModel();
  const subscribe = useCallback(
    (onChange: () => void) => {
      model.on(`change:${key}`, onChange);
      return () => model.off(`change:${key}`, onChange);
    },
    [model, key]
  );
  const value = useSyncExternalStore(subscribe, () => model.get(key) as T);
  const setValue = useCallback(
    (next: T) => {
      model.set(key, next);
      model.save_changes();
    },
    [model, key]
  );
  return [value, setValue];
}
