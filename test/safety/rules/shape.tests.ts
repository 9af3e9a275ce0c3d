/**
 * The shape of the safety rules (issue 18): one rule per file, each declaring its id, severity and fix once; every
 * rule registered (shared rules in the engine, a router's in its plug-in); every `SafetyRule` reported by some rule;
 * texts built from the facts' names, never parsed back from display text.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ROUTER_PLUGINS, checkManifests } from '../../../src/routing/_registry';
import { SHARED_RULES, readOptions } from '../../../src/safety/_engine';
import { Rule, defineRule } from '../../../src/safety/_rule';
import { SafetyRule, Severity } from '../../../src/safety/safety-rule';

const SRC = path.join(__dirname, '..', '..', '..', 'src');

/** Every rule file: `safety/rules/*.ts` and `routing/<router>/rules/*.ts`. */
function ruleFiles(): string[] {
  const routers = fs.readdirSync(path.join(SRC, 'routing'), { withFileTypes: true }).filter((e) => e.isDirectory())
    .map((e) => path.join(SRC, 'routing', e.name, 'rules'));
  return [path.join(SRC, 'safety', 'rules'), ...routers].filter((dir) => fs.existsSync(dir))
    .flatMap((dir) => fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f)));
}

const isRule = (x: any): x is Rule<unknown> => x && typeof x.run === 'function' && Array.isArray(x.findings);
const registered: Array<Rule<unknown>> = [...SHARED_RULES, ...ROUTER_PLUGINS.flatMap((p) => p.rules)];

describe('safety rules, one per file', () => {
  test.each(ruleFiles().map((f) => [path.relative(SRC, f), f]))('%s exports one rule, and it is registered', (_name, file) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const rules = Object.values(require(file)).filter(isRule);
    expect(rules).toHaveLength(1);
    expect(registered).toContain(rules[0]);
  });

  test('every registered rule lives in a rule file, once', () => {
    expect(new Set(registered).size).toBe(registered.length);
    expect(registered).toHaveLength(ruleFiles().length);
  });

  test('every SafetyRule is reported by a rule, with one severity per finding', () => {
    const declared = registered.flatMap((r) => r.findings);
    expect(new Set(declared.map((f) => f.id))).toEqual(new Set(Object.values(SafetyRule)));
    for (const f of declared) {
      expect([Severity.ERROR, Severity.WARNING]).toContain(f.severity);
    }
  });

  test('the documented warnings are the rules whose findings are all warnings', () => {
    const severities = new Map<SafetyRule, Set<Severity>>();
    for (const f of registered.flatMap((r) => r.findings)) {
      severities.set(f.id, new Set([...severities.get(f.id) ?? [], f.severity]));
    }
    const warningsOnly = [...severities].filter(([, s]) => s.size === 1 && s.has(Severity.WARNING)).map(([id]) => id).sort();
    expect(warningsOnly).toEqual(
      [SafetyRule.GATEWAYS_WITHOUT_MESH, SafetyRule.ROLLBACK_CAPACITY, SafetyRule.STALE_SERVICE, SafetyRule.STALE_SUBSET].sort());
    // capacity: errors (no pod guaranteed, a rollout that takes every pod) and a warning (floor below its share).
    expect(severities.get(SafetyRule.CAPACITY)).toEqual(new Set([Severity.ERROR, Severity.WARNING]));
  });
});

describe('defineRule', () => {
  const rule = defineRule({
    id: SafetyRule.WEIGHTS,
    findings: {
      plain: { severity: Severity.ERROR, fix: 'a fixed fix' },
      named: { severity: Severity.WARNING, fix: (d: { n: number }) => `raise it to ${d.n}` },
      other: { id: SafetyRule.CAPACITY, severity: Severity.ERROR, fix: 'x' },
    },
    check(input: number, report) {
      report('plain', 'Kind/a', `message ${input}`);
      report('named', 'Kind/b', 'low', { n: input + 1 });
      report('other', 'Kind/c', 'own id');
    },
  });

  test('a report carries the id, severity and fix its finding declares', () => {
    const found: unknown[] = [];
    rule.run(41, (...args) => found.push(args));
    expect(found).toEqual([
      [SafetyRule.WEIGHTS, Severity.ERROR, 'Kind/a', 'message 41', 'a fixed fix'],
      [SafetyRule.WEIGHTS, Severity.WARNING, 'Kind/b', 'low', 'raise it to 42'],
      [SafetyRule.CAPACITY, Severity.ERROR, 'Kind/c', 'own id', 'x'],
    ]);
    expect(rule.findings.map((f) => [f.name, f.id, f.severity])).toEqual([
      ['plain', SafetyRule.WEIGHTS, Severity.ERROR], ['named', SafetyRule.WEIGHTS, Severity.WARNING], ['other', SafetyRule.CAPACITY, Severity.ERROR],
    ]);
  });

  test('a finding without an id is refused when the rule is defined', () => {
    expect(() => defineRule({ findings: { lost: { severity: Severity.ERROR, fix: 'x' } }, check() {} })).toThrow(/finding 'lost' .* has no id/);
  });
});

describe('names are fields of the facts, not parsed from display text', () => {
  const HOST = 'reviews.shop.svc.cluster.local';
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews', namespace: 'shop' }, spec: { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 80 }] } };
  const deployment = (version: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `reviews-${version}`, namespace: 'shop' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'reviews', version } }, template: { metadata: { labels: { app: 'reviews', version } }, spec: { containers: [{ name: 'reviews' }] } } },
  });
  const destinationRule = (...subsets: string[]) => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: 'reviews', namespace: 'shop' },
    spec: { host: 'reviews', subsets: subsets.map((name) => ({ name, labels: { version: name.replace(/\W/g, '') } })) },
  });
  const virtualService = (...subsets: string[]) => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'reviews', namespace: 'shop' },
    spec: { hosts: ['reviews'], http: [{ route: subsets.map((subset) => ({ destination: { host: 'reviews', subset }, weight: 100 / subsets.length })) }] },
  });
  const options = readOptions('shop');

  // A subset name with a quote: the fix was made by splitting the label "subset 'v2's' of <host>" at quotes, which
  // named subset 'v2' (and with ' of ' in a name, the wrong host).
  test('subset-defined names a subset whose name has a quote', () => {
    const current = [service, deployment('v2'), destinationRule('v1'), virtualService("v2's")];
    const [v] = checkManifests(current, undefined, options).filter((x) => x.rule === SafetyRule.SUBSET_DEFINED);
    expect(v.fix).toBe(`add subset 'v2's' to the DestinationRule of ${HOST} in an earlier stage`);
  });

  test('subset-before-route and subset-removed-while-routed name it too', () => {
    const before = [service, deployment('v1'), deployment('v2'), destinationRule("v1's"), virtualService("v1's")];
    const after = [service, deployment('v1'), deployment('v2'), destinationRule('v2'), virtualService('v2')];
    const violations = checkManifests(after, before, options);
    expect(violations.find((x) => x.rule === SafetyRule.SUBSET_BEFORE_ROUTE)?.fix)
      .toBe("add subset 'v2' to the DestinationRule in a stage of its own, before the one that routes to it");
    const removed = violations.find((x) => x.rule === SafetyRule.SUBSET_REMOVED_WHILE_ROUTED)!;
    expect([removed.message, removed.fix]).toEqual([
      "subset 'v1's' is removed while the previous stage's route still sends to it",
      "remove 'v1's' from the route in one stage, then remove it in the next",
    ]);
  });
});
