/**
 * Routers as plug-ins of the safety engine (issue 18): the engine reads and checks with the plug-ins it is given
 * (`routing/_registry.ts` lists the routers once), and a reader learns what other routers route from their facts.
 */
import { ROUTER_PLUGINS } from '../../src/routing/_registry';
import { SERVICE_SELECTOR_PLUGIN } from '../../src/routing/service-selector/_plugin';
import { checkManifestsWith, readOptions, readStageWith } from '../../src/safety/_engine';
import { RouteFacts, serviceBackend, serviceId, serviceLabel } from '../../src/safety/_facts';
import { RouterPlugin } from '../../src/safety/_plugin';
import { defineRule } from '../../src/safety/_rule';
import { SafetyRule, Severity } from '../../src/safety/safety-rule';

const options = readOptions('shop');

/** A made-up router: a `ToySplit` object sends `spec.weights` (Service name → %) to Services of its namespace. */
interface ToyStage {
  readonly splits: any[];
}
const TOY: RouterPlugin<ToyStage> = {
  name: 'toy',
  reader: {
    read(stage, into) {
      const splits = [...stage.ofKind('ToySplit')];
      for (const split of splits) {
        const namespace = stage.namespaceOf(split);
        const object = `ToySplit/${split.metadata.name}`;
        const targets = Object.entries<number>(split.spec.weights).map(([name, weight]) => {
          into.routedServices.add(`${namespace}/${name}`);
          return { backendId: serviceId(namespace, name), kind: 'service' as const, label: serviceLabel(namespace, name), name, weight, mirror: false };
        });
        const route: RouteFacts = { object, namespace, list: 'weights', needsCatchAll: false, rules: [{ object, where: object, hasMatch: false, targets }] };
        into.routes.push(route);
      }
      return { splits };
    },
    complete(stage, into) {
      for (const service of stage.services()) {
        into.backends.push(serviceBackend(service, stage.namespaceOf(service)));
      }
    },
  },
  rules: [defineRule({
    id: SafetyRule.WEIGHTS,
    findings: { tooMany: { severity: Severity.WARNING, fix: 'split between two versions at most' } },
    check({ current }: { current: ToyStage }, report) {
      for (const split of current.splits.filter((s) => Object.keys(s.spec.weights).length > 2)) {
        report('tooMany', `ToySplit/${split.metadata.name}`, 'splits between more than two versions');
      }
    },
  })],
};

const service = (name: string, selector: { [key: string]: string }) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector } });
const deployment = (version: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: `web-${version}` },
  spec: { replicas: 2, selector: { matchLabels: { app: 'web', version } }, template: { metadata: { labels: { app: 'web', version } }, spec: { containers: [{ name: 'web' }] } } },
});
const split = (weights: { [name: string]: number }) => ({ apiVersion: 'toy/v1', kind: 'ToySplit', metadata: { name: 'web' }, spec: { weights } });

describe('the registry', () => {
  test('lists every router once', () => {
    expect(ROUTER_PLUGINS.map((p) => p.name)).toEqual(['istio', 'gateway-api', 'service-selector']);
  });
});

describe('a router the engine has never heard of', () => {
  test('gets the shared rules on its facts, and its own rules', () => {
    const v1 = service('web-v1', { app: 'web', version: 'v1' });
    const stable = [v1, deployment('v1'), split({ 'web-v1': 100 })];
    expect(checkManifestsWith([TOY], stable, stable, options)).toEqual([]);
    const next = [v1, deployment('v1'), deployment('v2'), split({ 'web-v1': 50, 'web-v2': 30, 'web-v3': 20 })];
    expect(checkManifestsWith([TOY], next, stable, options).map((v) => [v.rule, v.severity, v.object, v.fix])).toEqual([
      [SafetyRule.SERVICE_DEFINED, Severity.ERROR, 'ToySplit/web', 'create Service shop/web-v2 in an earlier stage'],
      [SafetyRule.SERVICE_DEFINED, Severity.ERROR, 'ToySplit/web', 'create Service shop/web-v3 in an earlier stage'],
      [SafetyRule.WEIGHTS, Severity.WARNING, 'ToySplit/web', 'split between two versions at most'],
    ]);
  });
});

describe('the selector switch learns what other routers route from their facts', () => {
  const switched = [service('web', { app: 'web', version: 'v2' }), deployment('v1'), deployment('v2')];
  const selectorRoutes = (plugins: RouterPlugin[], manifests: any[], other?: any[]) =>
    readStageWith(plugins, manifests, options, other).routes.filter((r) => r.list === 'selector').map((r) => r.object);

  test('a Service that selects a version is a switch', () => {
    expect(selectorRoutes([SERVICE_SELECTOR_PLUGIN], switched)).toEqual(['Service/web']);
  });

  test('unless another router routes it, in this stage or in the one compared with it', () => {
    expect(selectorRoutes([TOY, SERVICE_SELECTOR_PLUGIN], [...switched, split({ web: 100 })])).toEqual([]);
    expect(selectorRoutes([TOY, SERVICE_SELECTOR_PLUGIN], switched, [split({ web: 100 })])).toEqual([]);
  });
});
