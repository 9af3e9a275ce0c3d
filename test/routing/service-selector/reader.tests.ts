/**
 * The selector-switch reader (src/routing/service-selector/_reader.ts) on small hand-written YAML: a Service whose
 * selector names a version, that no mesh routes and that is not a per-version Service, is a route with one target,
 * itself as a backend taking all its requests.
 */
import * as YAML from 'yaml';
import { ROUTER_PLUGINS } from '../../../src/routing/_registry';
import { SERVICE_SELECTOR_PLUGIN } from '../../../src/routing/service-selector/_plugin';
import { SERVICE_SELECTOR_READER } from '../../../src/routing/service-selector/_reader';
import { readOptions, readStageWith } from '../../../src/safety/_engine';
import { FactsBuilder } from '../../../src/safety/_facts';
import { StageManifests } from '../../../src/safety/_manifests';

const OPTIONS = readOptions('shop');
const objects = (yaml: string) => YAML.parseAllDocuments(yaml).map((d) => d.toJS());
const stageOf = (yaml: string) => new StageManifests(objects(yaml), OPTIONS);
const newFacts = (): FactsBuilder => ({ backends: [], routes: [], routedServices: new Set(), serviceRoutes: [] });

const service = (name: string, selector: string) => `
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec: { selector: ${selector}, ports: [{ name: http, port: 8080 }] }
`;
const SWITCH = service('web', '{ app: web, version: green }');

describe('selector-switch reader', () => {
  test('candidates: Services selecting a version, except per-version Services (<app>-<version>) and Services without one', () => {
    const stage = stageOf([SWITCH, service('web-blue', '{ app: web, version: blue }'), service('api', '{ app: api }')].join('---'));
    expect(SERVICE_SELECTOR_READER.read(stage, newFacts())).toEqual({ candidates: ['shop/web'] });
  });

  test('a switch no mesh routes: a backend (the pods it selects) and a selector route sending it 100%', () => {
    const facts = readStageWith([SERVICE_SELECTOR_PLUGIN], objects(SWITCH), OPTIONS);
    expect(facts.backends).toEqual([{
      id: 'service:shop/web',
      kind: 'service',
      label: 'Service shop/web',
      name: 'web',
      object: 'Service/web',
      namespace: 'shop',
      selector: { app: 'web', version: 'green' },
      podsKnown: true,
    }]);
    expect(facts.routes).toEqual([{
      object: 'Service/web',
      namespace: 'shop',
      list: 'selector',
      needsCatchAll: false,
      rules: [{
        object: 'Service/web',
        where: 'Service/web selector',
        hasMatch: false,
        targets: [{ backendId: 'service:shop/web', kind: 'service', label: 'Service shop/web', name: 'web', weight: 100, mirror: false }],
      }],
    }]);
  });

  test('not a switch when a mesh routes the Service: what the other readers report decides', () => {
    const facts = newFacts();
    const stage = stageOf(SWITCH);
    const model = SERVICE_SELECTOR_READER.read(stage, facts);
    SERVICE_SELECTOR_READER.complete!(stage, facts, model, undefined, { routedServices: new Set(['shop/web']) });
    expect(facts).toEqual(newFacts());

    // AND with every router registered: the host of an Istio DestinationRule is routed by Istio
    const istio = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: web }
spec: { host: web, subsets: [{ name: green, labels: { version: green } }] }
`;
    const all = readStageWith(ROUTER_PLUGINS, objects(SWITCH + '---' + istio), OPTIONS);
    expect(all.routes.filter((r) => r.list === 'selector')).toEqual([]);
  });

  test('a switch in the other stage is a backend in this one too, without a route here', () => {
    const before = objects(SWITCH);
    const after = objects(service('web', '{ app: web }')); // the Service no longer selects a version
    const facts = readStageWith([SERVICE_SELECTOR_PLUGIN], after, OPTIONS, before);
    expect(facts.backends.map((b) => [b.id, b.selector])).toEqual([['service:shop/web', { app: 'web' }]]);
    expect(facts.routes).toEqual([]);
  });

  test('no Service selecting a version: no facts', () => {
    expect(readStageWith([SERVICE_SELECTOR_PLUGIN], objects(service('api', '{ app: api }')), OPTIONS)).toMatchObject({ backends: [], routes: [] });
  });
});
