/**
 * The last state of a model, saved with its output (docs/protocol.md, "Saved state"), and the
 * read-only mirror a view of it renders from when no kernel has the model.
 */
import { putBuffers, takeBuffers } from './buffers';
import { isBinary, isObject } from './json';
import { Mirror } from './mirror';
import { REF_PREFIX, TOO_LARGE } from './protocol';

/**
 * The most JSON text (binary values counted as their base64 text) a saved state may take.
 * A larger state is not saved: the output says so (`state_omitted`) instead of growing the
 * notebook without bound. The Python side uses the same cap (syncstate/saved.py).
 */
export const SAVED_STATE_MAX_CHARS = 4_000_000;

/** The data of a view's output: which model, and its state as saved (docs/protocol.md). */
export type SavedState = {
  model_id?: unknown;
  protocol?: unknown;
  state?: Record<string, unknown>;
  version?: number;
  buffer_paths?: (string | number)[][];
  /** base64 text, one per buffer path. */
  buffers?: string[];
  /** Why no state was saved (`too_large`). */
  state_omitted?: string;
  /** The models the view's model holds (children, theirs, …), by model id. */
  models?: Record<string, SavedState>;
};

function toBase64(buffer: ArrayBuffer): string {
  let text = '';
  const bytes = new Uint8Array(buffer);
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function fromBase64(text: string): DataView {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return new DataView(bytes.buffer);
}

/** One model's state, version and base64 buffers. */
function savedEntry(mirror: Mirror): SavedState {
  const { data, buffer_paths, buffers } = takeBuffers(mirror.state);
  const saved: SavedState = { state: data as Record<string, unknown>, version: mirror.version };
  if (buffers.length) {
    saved.buffer_paths = buffer_paths;
    saved.buffers = buffers.map(toBase64);
  }
  return saved;
}

/**
 * A lower bound of a state's JSON text length (binary values by their bytes, less than their
 * base64), found by a walk that stops once it passes `budget`: saving a notebook (JupyterLab
 * autosaves every few minutes) with a million-row view costs about the cap, not a copy and an
 * encoding of every row.
 */
function sizeAtLeast(state: unknown, budget: number): number {
  let size = 0;
  const stack: unknown[] = [state];
  while (stack.length && size <= budget) {
    const item = stack.pop();
    if (typeof item === 'string') {
      size += item.length + 2;
    } else if (isBinary(item)) {
      size += item.byteLength;
    } else if (Array.isArray(item)) {
      size += 1 + item.length; // brackets and commas
      // Each element takes a character at least: past the room left, the cap is surely passed.
      const room = budget - size + 1;
      for (let i = 0; i < item.length && i < room; i++) {
        stack.push(item[i]);
      }
    } else if (isObject(item)) {
      for (const key in item) {
        if (size > budget) {
          break;
        }
        size += key.length + 3;
        stack.push(item[key]);
      }
    } else {
      size += 1; // a number, true, false or null takes a character at least
    }
  }
  return size;
}

/** The model ids a state document refers to (`"syncstate:<id>"` strings), anywhere in it. */
function referencedIds(value: unknown, found: string[] = []): string[] {
  if (typeof value === 'string' && value.startsWith(REF_PREFIX)) {
    found.push(value.slice(REF_PREFIX.length));
  } else if (Array.isArray(value)) {
    value.forEach(item => referencedIds(item, found));
  } else if (isObject(value)) {
    Object.values(value).forEach(item => referencedIds(item, found));
  }
  return found;
}

/**
 * The saved form of a model's current (visible) state, with the models it holds that `known`
 * finds (`models`), or why it was not saved. The Python side saves the same (syncstate/saved.py).
 */
export function saveState(mirror: Mirror, known: (modelId: string) => Mirror | undefined = () => undefined): SavedState {
  // The cap counts the whole output, the models held too: each is measured against what is left.
  let room = SAVED_STATE_MAX_CHARS - sizeAtLeast(mirror.state, SAVED_STATE_MAX_CHARS);
  if (room < 0) {
    return { state_omitted: TOO_LARGE }; // before any copy, encoding or walk of its rows
  }
  const saved = savedEntry(mirror);
  const models: Record<string, SavedState> = {};
  const unvisited = referencedIds(mirror.state);
  for (let modelId = unvisited.pop(); modelId !== undefined; modelId = unvisited.pop()) {
    const child = known(modelId);
    if (child !== undefined && modelId !== mirror.modelId && !(modelId in models)) {
      room -= sizeAtLeast(child.state, room);
      if (room < 0) {
        return { state_omitted: TOO_LARGE };
      }
      models[modelId] = savedEntry(child);
      referencedIds(child.state, unvisited);
    }
  }
  if (Object.keys(models).length) {
    saved.models = models;
  }
  return JSON.stringify(saved).length > SAVED_STATE_MAX_CHARS ? { state_omitted: TOO_LARGE } : saved;
}

/**
 * A mirror of a saved state: it renders like a live one but has no kernel to send to, so
 * views of it must be given `refuse` (afm.ts). Null when the data holds no usable state.
 * The models it holds resolve from `saved.models`, one mirror each.
 */
export function savedMirror(modelId: string, saved: SavedState): Mirror | null {
  const entries = isObject(saved.models) ? saved.models : {};
  const mirrors = new Map<string, Mirror | null>();
  const mirrorOf = (id: string, entry: SavedState | undefined): Mirror | null => {
    if (!mirrors.has(id)) {
      mirrors.set(id, entry === undefined ? null : readOnlyMirror(id, entry, getModel));
    }
    return mirrors.get(id) ?? null;
  };
  const getModel = (id: string): Promise<Mirror> => {
    const child = id === modelId ? null : mirrorOf(id, entries[id]);
    return child === null
      ? Promise.reject(new Error(`syncstate: model ${id} was not saved with this view`))
      : Promise.resolve(child);
  };
  return mirrorOf(modelId, saved);
}

function readOnlyMirror(modelId: string, saved: SavedState, getModel: (id: string) => Promise<Mirror>): Mirror | null {
  if (!isObject(saved.state)) {
    return null;
  }
  try {
    const state = putBuffers(
      structuredClone(saved.state),
      saved.buffer_paths ?? [],
      (saved.buffers ?? []).map(fromBase64)
    );
    return new Mirror({
      modelId,
      state,
      version: Number(saved.version ?? 0),
      send: () => {
        throw new Error('syncstate: a saved view has no kernel');
      },
      getModel
    });
  } catch (error) {
    console.warn('syncstate: ignoring a saved state that does not fit', error);
    return null;
  }
}
