/** Every enabled record of the RFC 6902 conformance suite (tests/conformance/NOTICE.md). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Operation, PatchError, applyPatch, jsonClone } from '../src/core';

interface Record {
  comment?: string;
  doc?: unknown;
  patch?: Operation[];
  expected?: unknown;
  error?: string;
  disabled?: boolean;
}

function load(name: string): Record[] {
  return JSON.parse(readFileSync(new URL(`../../tests/conformance/${name}`, import.meta.url), 'utf8'));
}

for (const file of ['tests.json', 'spec_tests.json']) {
  describe(file, () => {
    const records = load(file).filter(r => r.doc !== undefined && !r.disabled);

    it('has records', () => {
      expect(records.length).toBeGreaterThan(10);
    });

    records.forEach((record, i) => {
      it(`${i}: ${record.comment ?? record.error ?? JSON.stringify(record.patch)}`, () => {
        const doc = jsonClone(record.doc);
        if (record.error !== undefined) {
          expect(() => applyPatch(doc, record.patch!)).toThrow(PatchError);
          expect(doc).toEqual(record.doc); // atomic: untouched
        } else if (record.expected !== undefined) {
          expect(applyPatch(doc, record.patch!)).toEqual(record.expected);
        } else {
          expect(() => applyPatch(doc, record.patch!)).not.toThrow();
        }
      });
    });
  });
}
