/**
 * Replays the shared mirror vectors (tests/vectors/mirror_scenarios.json, generated from the
 * Python kernel and checked against the Python mirror) through the JS mirror: both mirrors
 * implement one algorithm.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type MirrorError, type Operation, Mirror, jsonEqual } from '../src/core';

interface Step {
  edit?: Operation[];
  receive?: Record<string, unknown>;
  request_sync?: boolean;
  expect: {
    visible?: Record<string, unknown>;
    version?: number;
    pending?: { id: string; base: number; sent: boolean; ops: Operation[] }[];
    in_flight?: string | null;
    syncing?: boolean;
    sent?: Record<string, unknown>[];
    errors?: { id: string | null; code: string }[];
    raises?: string;
  };
}

interface Scenario {
  name: string;
  client_id: string;
  open: { state: Record<string, unknown>; version: number };
  steps: Step[];
}

const file = new URL('../../tests/vectors/mirror_scenarios.json', import.meta.url);
const scenarios: Scenario[] = JSON.parse(readFileSync(file, 'utf8')).scenarios;

/** The mirror's private bookkeeping, read for comparison with the vectors only. */
interface Internals {
  pending: { id: string; base: number; sent: boolean; ops: Operation[] }[];
  inFlight: string | null;
  syncing: boolean;
}

describe('shared mirror vectors', () => {
  it('has scenarios', () => expect(scenarios.length).toBeGreaterThan(100));

  it.each(scenarios.map(s => [s.name, s] as const))('%s', (_name, scenario) => {
    let sent: Record<string, unknown>[] = [];
    let errors: { id: string | null; code: string }[] = [];
    const mirror = new Mirror({
      modelId: 'model',
      clientId: scenario.client_id,
      state: structuredClone(scenario.open.state),
      version: scenario.open.version,
      send: data => sent.push(structuredClone(data))
    });
    mirror.on('error', (error: MirrorError) => errors.push({ id: error.id, code: error.code }));
    const internals = mirror as unknown as Internals;
    scenario.steps.forEach((step, index) => {
      const where = `${scenario.name} step ${index}`;
      sent = [];
      errors = [];
      if (step.edit) {
        let raised: string | undefined;
        try {
          mirror.patch(structuredClone(step.edit));
        } catch (error) {
          raised = (error as { code?: string }).code ?? 'error';
        }
        expect(raised, where).toBe(step.expect.raises);
      } else if (step.receive) {
        mirror.handleMessage(structuredClone(step.receive));
      } else if (step.request_sync) {
        mirror.requestSync();
      }
      const e = step.expect;
      if (e.visible) expect(jsonEqual(mirror.state, e.visible), `${where} visible`).toBe(true);
      if (e.version !== undefined) expect(mirror.version, `${where} version`).toBe(e.version);
      if (e.pending) {
        const pending = internals.pending.map(p => ({ id: p.id, base: p.base, sent: p.sent, ops: p.ops }));
        expect(pending, `${where} pending`).toEqual(e.pending);
      }
      if (e.in_flight !== undefined) expect(internals.inFlight, `${where} in_flight`).toBe(e.in_flight);
      if (e.syncing !== undefined) expect(internals.syncing, `${where} syncing`).toBe(e.syncing);
      if (e.sent) expect(sent, `${where} sent`).toEqual(e.sent);
      if (e.errors) expect(errors, `${where} errors`).toEqual(e.errors);
    });
  });
});
