/**
 * Replays the shared mirror vectors through the JS mirror, as tests/python/test_client_mirror.py
 * does through the Python one: tests/vectors/mirror_scenarios.json (random, from a real Python
 * kernel) and tests/vectors/mirror_rules.json (hand-written from docs/protocol.md's rules:
 * close, binary buffers, set/save_changes, rejections). Both mirrors implement one algorithm.
 */
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type MirrorError, type Operation, Mirror, anywidgetModel, jsonEqual } from '../src/core';

interface Expect {
  visible?: Record<string, unknown>;
  version?: number;
  pending?: { id: string; base: number; sent: boolean; ops: Operation[] }[];
  in_flight?: string | null;
  syncing?: boolean;
  sent?: Record<string, unknown>[];
  sent_buffers?: string[][];
  errors?: { id: string | null; code: string }[];
  raises?: string;
}

interface Step {
  edit?: Operation[];
  receive?: Record<string, unknown>;
  buffers?: string[];
  set?: { key: string; value: unknown };
  save_changes?: boolean;
  close?: boolean;
  request_sync?: boolean;
  expect: Expect;
}

interface Scenario {
  name: string;
  client_id: string;
  open: { state: Record<string, unknown>; version: number; buffer_paths?: unknown[] };
  steps: Step[];
}

function load(name: string): Scenario[] {
  const file = new URL(`../../tests/vectors/${name}`, import.meta.url);
  return JSON.parse(readFileSync(file, 'utf8')).scenarios;
}

const scenarios = load('mirror_scenarios.json');
const rules = load('mirror_rules.json');

/** The mirror's private bookkeeping, read for comparison with the vectors only. */
interface Internals {
  pending: { id: string; base: number; sent: boolean; ops: Operation[] }[];
  inFlight: string | null;
  syncing: boolean;
}

const base64 = (bytes: ArrayBuffer | ArrayBufferView): string =>
  ArrayBuffer.isView(bytes)
    ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
    : Buffer.from(bytes).toString('base64');

function bytesOf(text: string): ArrayBuffer {
  const bytes = Buffer.from(text, 'base64');
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** A vector's JSON with binary values as `{"$binary": base64}`, as the mirror takes it. */
function fromVector(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(fromVector);
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0][0] === '$binary') {
      return new DataView(bytesOf(entries[0][1] as string));
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, fromVector(v)]));
  }
  return value;
}

function toVector(value: unknown): unknown {
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    return { $binary: base64(value) };
  }
  if (Array.isArray(value)) {
    return value.map(toVector);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toVector(v)]));
  }
  return value;
}

function replay(scenario: Scenario): void {
  let sent: { data: Record<string, unknown>; buffers: ArrayBuffer[] }[] = [];
  let errors: { id: string | null; code: string }[] = [];
  const mirror = new Mirror({
    modelId: 'model',
    clientId: scenario.client_id,
    state: structuredClone(scenario.open.state),
    version: scenario.open.version,
    send: (data, buffers = []) => sent.push({ data: structuredClone(data), buffers })
  });
  mirror.on('error', (error: MirrorError) => errors.push({ id: error.id, code: error.code }));
  const internals = mirror as unknown as Internals;
  scenario.steps.forEach((step, index) => {
    const where = `${scenario.name} step ${index}`;
    sent = [];
    errors = [];
    let raised: string | undefined;
    try {
      if (step.edit) {
        mirror.patch(fromVector(step.edit) as Operation[]);
      } else if (step.receive) {
        mirror.handleMessage(structuredClone(step.receive), (step.buffers ?? []).map(bytesOf));
      } else if (step.set) {
        anywidgetModel(mirror).set(step.set.key, fromVector(step.set.value));
      } else if (step.save_changes) {
        anywidgetModel(mirror).save_changes();
      } else if (step.close) {
        mirror.handleClose();
      } else if (step.request_sync) {
        mirror.requestSync();
      }
    } catch (error) {
      raised = (error as { code?: string }).code ?? 'error';
    }
    const e = step.expect;
    expect(raised, where).toBe(e.raises);
    if (e.visible) expect(jsonEqual(toVector(mirror.state), e.visible), `${where} visible`).toBe(true);
    if (e.version !== undefined) expect(mirror.version, `${where} version`).toBe(e.version);
    if (e.pending) {
      const pending = internals.pending.map(p => ({ id: p.id, base: p.base, sent: p.sent, ops: toVector(p.ops) }));
      expect(pending, `${where} pending`).toEqual(e.pending);
    }
    if (e.in_flight !== undefined) expect(internals.inFlight, `${where} in_flight`).toBe(e.in_flight);
    if (e.syncing !== undefined) expect(internals.syncing, `${where} syncing`).toBe(e.syncing);
    if (e.sent) expect(sent.map(m => m.data), `${where} sent`).toEqual(e.sent);
    if (e.sent_buffers) expect(sent.map(m => m.buffers.map(base64)), `${where} sent_buffers`).toEqual(e.sent_buffers);
    if (e.errors) expect(errors, `${where} errors`).toEqual(e.errors);
  });
}

describe('shared mirror vectors', () => {
  it('has scenarios', () => expect(scenarios.length).toBeGreaterThan(100));
  it.each(scenarios.map(s => [s.name, s] as const))('%s', (_name, scenario) => replay(scenario));
});

describe('mirror rules, hand-written from docs/protocol.md', () => {
  it('has scenarios', () => expect(rules.length).toBeGreaterThan(10));
  it.each(rules.map(s => [s.name, s] as const))('%s', (_name, scenario) => replay(scenario));
});
