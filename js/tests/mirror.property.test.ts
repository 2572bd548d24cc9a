/**
 * Random interleavings of local edits, kernel changes and kernel answers. Whatever happens:
 * the change events describe the visible state exactly, and once the kernel has answered
 * everything the mirror shows the kernel's state.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { type Operation, Mirror, PatchError, applyPatch, jsonClone } from '../src/core';

/** A value as JSON carries it (JSON has no -0). */
const wire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

type Action = [kind: 'local' | 'kernel' | 'deliver', choice: number, value: number];

/** An op on a small document; indexes are taken modulo the current list length. */
function opFor(doc: { count: number; items: number[] }, choice: number, value: number): Operation {
  const n = doc.items.length;
  switch (choice % 4) {
    case 0:
      return { op: 'replace', path: '/count', value };
    case 1:
      return { op: 'add', path: `/items/${value % (n + 1)}`, value };
    case 2:
      return n ? { op: 'remove', path: `/items/${value % n}` } : { op: 'add', path: '/items/-', value };
    default:
      return n ? { op: 'replace', path: `/items/${value % n}`, value } : { op: 'replace', path: '/count', value: -value };
  }
}

it('converges on the kernel state and reports every visible change', () => {
  const action = fc.tuple(fc.constantFrom('local', 'kernel', 'deliver'), fc.nat(7), fc.nat(20)) as fc.Arbitrary<Action>;
  fc.assert(
    fc.property(fc.array(action, { maxLength: 40 }), actions => {
      let kernelState = { count: 0, items: [1, 2] };
      let version = 0;
      const inbox: Record<string, unknown>[] = [];
      const mirror = new Mirror({ modelId: 'm', clientId: 'c', state: jsonClone(kernelState), version, send: d => inbox.push(d) });
      let shown: unknown = jsonClone(kernelState);
      mirror.on('change', (ops: Operation[]) => {
        shown = applyPatch(shown, ops);
      });

      const kernelChange = (ops: Operation[], ack: string[]) => {
        version += 1;
        mirror.handleMessage(jsonClone({ method: 'patch', version, ops, ack }));
      };
      const deliver = () => {
        const message = JSON.parse(JSON.stringify(inbox.shift()!)); // the wire: -0 arrives as 0
        if (message.method !== 'patch') {
          return;
        }
        const candidate = jsonClone(kernelState);
        try {
          applyPatch(candidate, message.ops as Operation[]);
          // the kernel validates: negative counts are refused
          if (candidate.count < 0) {
            throw new PatchError('test_failed', 'negative');
          }
        } catch {
          mirror.handleMessage({ method: 'reject', id: message.id, version, code: 'invalid', message: 'no' });
          return;
        }
        // and coerces: counts above 10 are clamped, which the ack's ops say
        const effective = [...(message.ops as Operation[])];
        if (candidate.count > 10) {
          candidate.count = 10;
          effective.push({ op: 'replace', path: '/count', value: 10 });
        }
        kernelState = candidate;
        kernelChange(effective, [message.id as string]);
      };

      for (const [kind, choice, value] of actions) {
        if (kind === 'local') {
          try {
            mirror.patch([opFor(mirror.state as typeof kernelState, choice, value)]);
          } catch (error) {
            expect(error).toBeInstanceOf(PatchError);
          }
        } else if (kind === 'kernel') {
          const op = opFor(kernelState, choice, value);
          applyPatch(kernelState, [op]);
          kernelChange([op], []);
        } else if (inbox.length) {
          deliver();
        }
        expect(wire(shown)).toEqual(wire(mirror.state));
      }
      while (inbox.length) {
        deliver();
      }
      expect(wire(mirror.state)).toEqual(wire(kernelState));
      expect(wire(shown)).toEqual(wire(kernelState));
      expect(mirror.version).toBe(version);
    }),
    { numRuns: 1000 }
  );
});
