/**
 * Execution upload: the reading of results text (src/jobs/execution-upload/results.ts
 * `parseResultRows`): cells' kinds and exact texts, escapes, nested values as written, any JSON
 * whitespace, columns by first appearance, and the shapes it refuses. test/e2e/execution-upload-queue.test.ts
 * reads the same through PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import type { JsonKind } from '../../src/jobs/execution-upload/infer.js';
import { parseResultRows, ResultsShapeError } from '../../src/jobs/execution-upload/results.js';

describe('results text', () => {
  it('reads an array of objects: exact numbers, decoded strings, nested values as written, gaps as nulls', () => {
    const text = `[{"id": 1, "big": 123456789012345678901234567890.125, "name": "a \\"q\\" \\u00e9\\n\\\\"}, {"id": -2.50, "meta": {"k": [1, "]"], "s": "}"}, "name": null, "extra": true}, {}, 7, "x", null, [1, 2]]`;
    expect(parseResultRows(text, 'objects')).toEqual({
      keys: ['id', 'big', 'name', 'meta', 'extra', 'value'],
      texts: [
        ['1', '123456789012345678901234567890.125', 'a "q" é\n\\'],
        ['-2.50', null, null, '{"k": [1, "]"], "s": "}"}', 'true'],
        [],
        [null, null, null, null, null, '7'],
        [null, null, null, null, null, 'x'],
        [null, null, null, null, null, null],
        [null, null, null, null, null, '[1, 2]'],
      ],
      kinds: [
        ['number', 'number', 'string'],
        ['number', 'null', 'null', 'object', 'boolean'],
        [],
        ['null', 'null', 'null', 'null', 'null', 'number'],
        ['null', 'null', 'null', 'null', 'null', 'string'],
        ['null', 'null', 'null', 'null', 'null', 'null'],
        ['null', 'null', 'null', 'null', 'null', 'array'],
      ],
    });
  });

  it('reads rows of arrays with named columns, cells beyond them as COLUMN_<n>', () => {
    expect(parseResultRows(`[["x", 1.50], [], [null, false, "2024-02-29"]]`, 'arrays', ['Zeta', 'alpha'])).toEqual({
      keys: ['Zeta', 'alpha', 'COLUMN_3'],
      texts: [['x', '1.50'], [], [null, 'false', '2024-02-29']],
      kinds: [['string', 'number'], [], ['null', 'boolean', 'string']],
    });
    expect(parseResultRows('[]', 'arrays', ['a'])).toEqual({ keys: ['a'], texts: [], kinds: [] });
    expect(parseResultRows(' [ ] ', 'objects')).toEqual({ keys: [], texts: [], kinds: [] });
  });

  it('refuses rows that are not an array of arrays, and text that is not JSON', () => {
    expect(() => parseResultRows('{"a": 1}', 'arrays')).toThrow(ResultsShapeError);
    expect(() => parseResultRows('[[1], {"a": 1}]', 'arrays')).toThrow(ResultsShapeError);
    expect(() => parseResultRows('[1, 2]', 'arrays')).toThrow(ResultsShapeError);
    expect(() => parseResultRows('[{"a": 1}', 'objects')).toThrow(/results text/);
    expect(() => parseResultRows('[{"a": "x}]', 'objects')).toThrow(/unterminated string/);
    expect(() => parseResultRows('[{"a": 1}] x', 'objects')).toThrow(/after the rows/);
  });

  it('reads random documents in any JSON whitespace exactly', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const ws = () => [' ', '', '\n', '\t ', '\r\n'][rand(5)];
    const chars = ['a', 'é', '"', '\\', '\n', '\u0001', '}', ']', ',', ':', ' ', '𝄞', '/'];
    const str = () => Array.from({ length: rand(6) }, () => chars[rand(chars.length)]).join('');
    const nested = (depth: number): string =>
      depth > 2 || rand(3) === 0
        ? JSON.stringify(str())
        : rand(2)
          ? `{${ws()}${Array.from({ length: rand(3) }, () => `${JSON.stringify(str())}${ws()}:${ws()}${nested(depth + 1)}`).join(`,${ws()}`)}}`
          : `[${Array.from({ length: rand(3) }, () => nested(depth + 1)).join(`,${ws()}`)}]`;
    const value = (): { kind: JsonKind; text: string | null; json: string } => {
      switch (rand(6)) {
        case 0: {
          const v = str();
          return { kind: 'string', text: v, json: JSON.stringify(v) };
        }
        case 1: {
          const t = `${rand(2) ? '-' : ''}${rand(100000)}${rand(2) ? `.${rand(1000)}0` : ''}`;
          return { kind: 'number', text: t, json: t };
        }
        case 2: {
          const t = rand(2) ? 'true' : 'false';
          return { kind: 'boolean', text: t, json: t };
        }
        case 3:
          return { kind: 'null', text: null, json: 'null' };
        default: {
          const t = nested(0);
          const kind: JsonKind = t.startsWith('{') ? 'object' : t.startsWith('[') ? 'array' : 'string';
          return { kind, text: kind === 'string' ? (JSON.parse(t) as string) : t, json: t };
        }
      }
    };
    for (let doc = 0; doc < 50; doc++) {
      const keys = ['k0', 'k1', 'k2', '10', 'x y', 'é'];
      const expected = { texts: [] as (string | null)[][], kinds: [] as JsonKind[][] };
      const seen: string[] = [];
      const rows: string[] = [];
      for (let r = rand(8); r > 0; r--) {
        const picked = keys.filter(() => rand(2) === 1);
        const cells = picked.map((k) => ({ k, ...value() }));
        rows.push(
          `{${ws()}${cells.map((c) => `${JSON.stringify(c.k)}${ws()}:${ws()}${c.json}`).join(`${ws()},${ws()}`)}${ws()}}`,
        );
        const t: (string | null)[] = [];
        const k: JsonKind[] = [];
        for (const c of cells) {
          let at = seen.indexOf(c.k);
          if (at < 0) at = seen.push(c.k) - 1;
          while (t.length < at) {
            t.push(null);
            k.push('null');
          }
          t[at] = c.text;
          k[at] = c.kind;
        }
        expected.texts.push(t);
        expected.kinds.push(k);
      }
      const text = `${ws()}[${ws()}${rows.join(`${ws()},${ws()}`)}${ws()}]${ws()}`;
      expect(parseResultRows(text, 'objects'), text).toEqual({ keys: seen, ...expected });
    }
  });
});
