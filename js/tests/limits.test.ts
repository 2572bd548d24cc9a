import { describe, expect, it } from 'vitest';
import { LIMITS, type MirrorError, Mirror, PatchError } from '../src/core';

function setup() {
  const sent: Record<string, unknown>[] = [];
  const mirror = new Mirror({
    modelId: 'm1',
    clientId: 'c',
    state: { title: '', count: 0, meta: {} },
    version: 0,
    send: data => sent.push(data)
  });
  const errors: MirrorError[] = [];
  mirror.on('error', (error: MirrorError) => errors.push(error));
  return { mirror, sent, errors };
}

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) {
    value = [value];
  }
  return value;
}

describe('Mirror: edits the kernel would refuse are refused locally', () => {
  it.each([
    ['half an emoji', '/title', '😀'.slice(0, 1), 'bad_message'],
    ['a lone low surrogate', '/title', 'a\udcff', 'bad_message'],
    ['a lone surrogate in a key', '/meta', { ['\ud800']: 1 }, 'bad_message'],
    ['NaN (JSON.stringify sends null)', '/count', NaN, 'bad_message'],
    ['Infinity', '/count', Infinity, 'bad_message'],
    ['a BigInt', '/count', 10n, 'bad_message'],
    ['nesting deeper than ipykernel parses', '/meta', nested(1000), 'too_large'],
    ['nesting over the limit', '/meta', nested(LIMITS.maxDepth + 1), 'too_large']
  ])('%s', (_name, path, value, code) => {
    const { mirror, sent, errors } = setup();
    const before = structuredClone(mirror.get(path.slice(1)));
    expect(() => mirror.patch([{ op: 'replace', path, value }])).toThrow(PatchError);
    expect(errors).toEqual([{ id: null, code, message: expect.any(String) }]);
    expect(sent).toEqual([]);
    expect(mirror.get(path.slice(1))).toEqual(before);
  });

  it('refuses a path with a lone surrogate or deeper than the limit', () => {
    const { mirror, sent, errors } = setup();
    expect(() => mirror.patch([{ op: 'add', path: '/meta/\ud800', value: 1 }])).toThrow(PatchError);
    const deep = '/meta' + '/x'.repeat(LIMITS.maxDepth + 1);
    expect(() => mirror.patch([{ op: 'add', path: deep, value: 1 }])).toThrow(PatchError);
    expect(errors.map(e => e.code)).toEqual(['bad_message', 'too_large']);
    expect(sent).toEqual([]);
  });

  it('refuses an edit over the size and operation limits', () => {
    const { mirror, errors } = setup();
    const saved = { ...LIMITS };
    LIMITS.maxChangeBytes = 1000;
    LIMITS.maxOps = 3;
    try {
      expect(() => mirror.patch([{ op: 'replace', path: '/title', value: 'x'.repeat(1000) }])).toThrow(
        PatchError
      );
      const ops = Array.from({ length: 4 }, (_, i) => ({ op: 'replace' as const, path: '/count', value: i }));
      expect(() => mirror.patch(ops)).toThrow(PatchError);
    } finally {
      Object.assign(LIMITS, saved);
    }
    expect(errors.map(e => e.code)).toEqual(['too_large', 'too_large']);
  });

  it('sends valid text, emoji included', () => {
    const { mirror, sent, errors } = setup();
    mirror.patch([{ op: 'replace', path: '/title', value: '😀 ok' }]);
    expect(errors).toEqual([]);
    expect(sent).toHaveLength(1);
  });
});
