/**
 * Every `syncstate/1` message a frontend sends or reads, written and read in one place
 * (docs/protocol.md). One `write*` function a kind the frontend sends (with its binary values
 * taken out into buffers, where it can carry any); one `read*` function a kind it receives,
 * which checks the message's shape and gives its fields. The field names of messages are
 * spelled here and nowhere else in js/src (saved.ts spells those of the view output).
 * syncstate/messages.py is the Python twin. Readers throw MessageError (`bad_message`) for a
 * message of the wrong shape; what the fields mean is for their callers to check.
 */

import { MessageError, putBuffers, takeBuffers } from './buffers';
import { type Binary, isObject } from './json';
import { CHILD, CUSTOM, INVOKE, INVOKE_REPLY, OPEN, PATCH, PROTOCOL, STATE, SYNC } from './protocol';

export type Message = Record<string, unknown>;

/** A message and the binary buffers it travels with. */
export interface Wire {
  data: Message;
  buffers: ArrayBuffer[];
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every(item => typeof item === 'string');
}

// ---------------------------------------------------------------- every message

/** The `method` of a message; throws for one that is not an object. */
export function readMethod(data: unknown): unknown {
  if (!isObject(data)) {
    throw new MessageError('A message must be an object');
  }
  return data.method;
}

/** Puts the message's binary buffers back where its `buffer_paths` say (in place); returns it. */
export function readBuffers(data: Message, buffers: readonly Binary[]): Message {
  return putBuffers(data, data.buffer_paths ?? [], buffers);
}

/** Whether a message carries binary buffers (a custom message may carry them unplaced). */
export function hasBufferPaths(data: Message): boolean {
  return data.buffer_paths !== undefined;
}

export function writeCustom(content: unknown): Message {
  return { method: CUSTOM, content };
}

export function readCustom(data: Message): unknown {
  return data.content;
}

// ---------------------------------------------------------------- kernel -> frontend

/** A model as a frontend first sees it (an `open`, or the `state` that answers `sync`). */
export interface ModelState {
  version: number;
  state: Record<string, unknown>;
}

/** A model's `open` (its buffers in place), or null for a comm_open of another protocol. */
export function readOpen(data: Message, buffers: readonly Binary[]): ModelState | null {
  if (data.protocol !== PROTOCOL || data.method !== OPEN || !isObject(data.state)) {
    return null;
  }
  readBuffers(data, buffers);
  return { version: isInteger(data.version) ? data.version : 0, state: data.state };
}

export interface KernelPatch {
  version: number;
  /** Their shape is the mirror's to check. */
  ops: unknown[];
  ack: string[];
}

export function readPatch(data: Message): KernelPatch {
  const { version, ops, ack = [] } = data;
  if (!isInteger(version) || !Array.isArray(ops) || !isStringArray(ack)) {
    throw new MessageError('A patch needs an integer "version", an "ops" list and an "ack" list of ids');
  }
  return { version, ops, ack };
}

export interface Rejection {
  id: string | null;
  code: string;
  message: string;
  /** Compared only when it is a number. */
  version: unknown;
}

export function readReject(data: Message): Rejection {
  const { id, code, message, version } = data;
  if (!(id === null || typeof id === 'string') || typeof code !== 'string') {
    throw new MessageError('A reject needs an "id" (string or null) and a "code"');
  }
  return { id, code, message: typeof message === 'string' ? message : code, version };
}

export function readState(data: Message): ModelState {
  const { version, state } = data;
  if (!isInteger(version) || !isObject(state)) {
    throw new MessageError('A state needs an integer "version" and a "state" object');
  }
  return { version, state };
}

/** Whether a message is a `state` (the answer to `sync`), before its buffers are put in. */
export function isStateMessage(data: unknown): data is Message {
  return isObject(data) && data.method === STATE && isObject(data.state);
}

// ---------------------------------------------------------------- frontend -> kernel

/** A frontend's `patch`: an edit of `ops` made on version `base`. */
export function writeEdit(id: string, base: number, ops: unknown[]): Wire {
  const { data, buffer_paths, buffers } = takeBuffers({ method: PATCH, id, base, ops });
  return { data: buffers.length ? { ...data, buffer_paths } : data, buffers };
}

export function writeSync(): Message {
  return { method: SYNC };
}

// ---------------------------------------------------------------- the widget comm (js/src/widget)

/** A view asks, on its model's widget comm, for the widget of a model it refers to. */
export function writeChild(modelId: string): Message {
  return { method: CHILD, model_id: modelId };
}

/** The kernel's answer to `writeChild`: the child's widget comm id, or why there is none. */
export interface ChildAnswer {
  modelId: string;
  widget: string | null;
  message: string;
}

/** The answer, if `data` is one (else null). */
export function readChildAnswer(data: Message): ChildAnswer | null {
  if (data.method !== CHILD) {
    return null;
  }
  const modelId = String(data.model_id);
  return {
    modelId,
    widget: typeof data.widget === 'string' ? data.widget : null,
    message: typeof data.message === 'string' ? data.message : `syncstate: model ${modelId} is not available`
  };
}

// ---------------------------------------------------------------- commands (custom content)

export function writeInvoke(id: string, name: string, msg: unknown): Message {
  return { syncstate: INVOKE, id, name, msg };
}

export interface InvokeReply {
  id: string;
  ok: boolean;
  msg: unknown;
  code: unknown;
  message: string;
}

/** A command's reply, or null for any other custom content. */
export function readInvokeReply(content: unknown): InvokeReply | null {
  if (!isObject(content) || content.syncstate !== INVOKE_REPLY || typeof content.id !== 'string') {
    return null;
  }
  const { id, ok, msg, code, message } = content;
  return { id, ok: ok === true, msg, code, message: String(message ?? 'the command failed') };
}
