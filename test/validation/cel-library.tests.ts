import { parse, run, isCelError } from '@bufbuild/cel';
import { celEnvironment, goSplit, isDefinedFunction } from '../../src/validation/_cel-library';
import { parseGoDuration } from '../../src/validation/_go-duration';

// The generated schema modules (~800 KB of object literals) are required, as src/validation/_crd-schemas.ts requires
// them: an import would put them in the TypeScript program of eslint's type-aware rules (~1 s of its time).
/* eslint-disable @typescript-eslint/no-require-imports */
const { GATEWAY_API_EXPERIMENTAL_SCHEMAS, GATEWAY_API_SCHEMAS } = require('../../src/imports/gateway-api-schemas') as
  { GATEWAY_API_SCHEMAS: Record<string, any>; GATEWAY_API_EXPERIMENTAL_SCHEMAS: Record<string, any> };
const { ISTIO_SCHEMAS } = require('../../src/imports/istio-schemas') as { ISTIO_SCHEMAS: Record<string, any> };
/* eslint-enable @typescript-eslint/no-require-imports */

/** Every rule text (rule and messageExpression) of the schemas we validate. */
function ruleTexts(): string[] {
  const texts: string[] = [];
  const walk = (node: any) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    for (const r of node['x-kubernetes-validations'] ?? []) texts.push(r.rule, ...(r.messageExpression ? [r.messageExpression] : []));
    Object.entries(node).forEach(([k, v]) => k !== 'x-kubernetes-validations' && walk(v));
  };
  [ISTIO_SCHEMAS, GATEWAY_API_SCHEMAS, GATEWAY_API_EXPERIMENTAL_SCHEMAS].forEach(s => Object.values(s).forEach(walk));
  return texts;
}

/** Functions and macros an expression uses (macros are recognised before their expansion). */
function used(text: string): string[] {
  const names = new Set<string>();
  const visit = (expr: any) => {
    const kind = expr?.exprKind;
    if (!kind) return;
    if (kind.case === 'callExpr') {
      names.add(kind.value.function);
      visit(kind.value.target);
      kind.value.args.forEach(visit);
    } else if (kind.case === 'selectExpr') {
      if (kind.value.testOnly) names.add('has');
      visit(kind.value.operand);
    } else if (kind.case === 'listExpr') {
      kind.value.elements.forEach(visit);
    } else if (kind.case === 'comprehensionExpr') {
      [kind.value.iterRange, kind.value.accuInit, kind.value.loopCondition, kind.value.loopStep, kind.value.result].forEach(visit);
    }
  };
  visit(parse(text).expr);
  for (const macro of ['all', 'exists_one', 'exists', 'filter', 'map']) {
    if (new RegExp(`\\.${macro}\\(`).test(text)) names.add(macro);
  }
  names.delete('@not_strictly_false');
  return [...names];
}

test('the functions, macros and operators the CRD rules use are exactly the documented list, and all are defined', () => {
  const texts = ruleTexts();
  expect(texts.length).toBeGreaterThan(200);
  const names = new Set(texts.flatMap(used));
  expect([...names].sort()).toEqual([
    '!_', '@in', '_!=_', '_&&_', '_+_', '_<=_', '_<_', '_==_', '_>=_', '_>_', '_?_:_', '_[_]', '_||_',
    'all', 'contains', 'duration', 'endsWith', 'exists', 'exists_one', 'filter', 'has', 'int', 'matches', 'size',
    'split', 'startsWith',
  ]);
  const macros = new Set(['all', 'exists', 'exists_one', 'filter', 'has']);
  expect([...names].filter(n => !macros.has(n) && !isDefinedFunction(n))).toEqual([]);
});

const cel = (expr: string, self?: unknown) => {
  const result = run(expr, { self: self as any }, { funcs: [...celEnvironment().funcs] });
  return isCelError(result) ? `error: ${result.message}` : result;
};

describe('Kubernetes CEL library semantics', () => {
  test.each([
    // duration: Go time.ParseDuration syntax
    ["duration('1h30m') == duration('90m')", true],
    ["duration('1.5s') > duration('1s')", true],
    ["duration('0') == duration('0s')", true],
    ["duration('1\u03bcs') == duration('1000ns')", true],
    ["duration('-1.5h') < duration('0s')", true],
    ["duration('')", 'error: time: invalid duration ""'],
    ["duration('1')", 'error: time: missing unit in duration "1"'],
    ["duration('2562048h')", 'error: time: invalid duration "2562048h"'],
    // split: Go strings.Split / SplitN
    ["'a/b/c'.split('/') == ['a', 'b', 'c']", true],
    ["'a/b/c'.split('/', 2) == ['a', 'b/c']", true],
    ["'a/b/c'.split('/', 0) == []", true],
    ["'abc'.split('') == ['a', 'b', 'c']", true],
    ["'example.com/key'.split('/')[0].size() < 253", true],
    // matches: RE2, partial match
    ["'shop.example.com'.matches('^(\\\\*\\\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')", true],
    ["'abc'.matches('b')", true],
    ["'abc'.matches('(?=b)')", 'error: error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
    // standard functions and macros used by the CRDs
    ["size('h\u00e9llo') == 5 && 'h\u00e9llo'.size() == 5", true],
    ["'abc'.contains('b') && 'abc'.startsWith('a') && 'abc'.endsWith('c')", true],
    ["int('8080') == 8080", true],
    ['[1, 2, 3].all(x, x > 0) && [1, 2, 3].exists(x, x == 2) && [1, 2, 2].exists_one(x, x == 1)', true],
    ['[1, 2, 3].filter(x, x > 1).size() == 2', true],
    ["'*' in ['*', 'GET']", true],
    ['has(self.a) && !has(self.b)', true],
    // strings extension (available, not used by these CRDs)
    ["'ABC'.lowerAscii() == 'abc' && 'abc'.indexOf('c') == 2", true],
  ])('%s', (expr, expected) => {
    expect(cel(expr, new Map([['a', 1n]]))).toEqual(expected);
  });

  test('goSplit and parseGoDuration edge cases', () => {
    expect(goSplit('', '/', -1)).toEqual(['']);
    expect(goSplit('a/b', '/', 5)).toEqual(['a', 'b']);
    expect(parseGoDuration('.5s')).toBe(500_000_000n);
    expect(parseGoDuration('1h1m1.001s')).toBe(3_661_001_000_000n);
    expect(() => parseGoDuration('1h-1m')).toThrow('time: unknown unit "h-" in duration "1h-1m"');
    expect(() => parseGoDuration('1d')).toThrow('time: unknown unit "d" in duration "1d"');
    expect(() => parseGoDuration('.s')).toThrow('time: invalid duration ".s"');
    expect(() => parseGoDuration('9223372036854775808ns')).toThrow('invalid duration');
  });
});
