/**
 * `mesh-release check` on the upstream projects' own YAML, unchanged (test/fixtures/upstream: Istio's Bookinfo
 * samples, the Gateway API's mesh conformance manifests), and on mutations of it that drop requests: what a correct
 * upstream example does is accepted, what the mutation breaks is named (issue 19's hostile-user pass).
 */
import * as fs from 'fs';
import * as path from 'path';
import { cliInProcess, tmpDir } from './_cli';
import { readManifests } from '../../src/cli/manifests';

const UPSTREAM = path.join(__dirname, '..', 'fixtures', 'upstream');

/** A stage directory holding the objects of upstream files (`dir/file`), with `edit` applied to the list. */
function stage(files: string[], edit: (objects: any[]) => any[] = (o) => o): string {
  const objects = edit(files.flatMap((f) => readManifests(path.join(UPSTREAM, f)).objects));
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'stage.yaml'), objects.map((o) => JSON.stringify(o)).join('\n---\n'));
  return dir;
}

describe('Istio Bookinfo (istio/istio samples/bookinfo): the traffic-shifting task, both APIs', () => {
  const app = ['istio/platform-kube-bookinfo.yaml'];
  const istio = [...app, 'istio/networking-destination-rule-all.yaml', 'istio/networking-bookinfo-gateway.yaml'];
  const gatewayApi = [...app, 'istio/platform-kube-bookinfo-versions.yaml', 'istio/gateway-api-bookinfo-gateway.yaml'];

  test('an ingress route exposing some paths (bound to a Gateway only) needs no catch-all: the task\'s stages pass, forward and back', async () => {
    const allV1 = stage([...istio, 'istio/networking-virtual-service-all-v1.yaml']);
    const fiftyV3 = stage([...istio, 'istio/networking-virtual-service-all-v1.yaml', 'istio/networking-virtual-service-reviews-50-v3.yaml'],
      (objects) => objects.filter((o, i) => !(o.kind === 'VirtualService' && o.metadata.name === 'reviews' && objects.findIndex((x) => x.kind === 'VirtualService' && x.metadata.name === 'reviews') === i)));
    for (const [before, after] of [[stage(istio), allV1], [allV1, fiftyV3], [fiftyV3, allV1]]) {
      const run = await cliInProcess(['check', '--namespace', 'default', before, after]);
      expect(run.stdout).not.toContain('error:');
      expect(run.status).toBe(0);
    }
    const v1 = stage([...gatewayApi, 'istio/gateway-api-route-reviews-v1.yaml']);
    const ninetyTen = stage([...gatewayApi, 'istio/gateway-api-route-reviews-90-10.yaml']);
    for (const [before, after] of [[stage(gatewayApi), v1], [v1, ninetyTen], [ninetyTen, v1]]) {
      const run = await cliInProcess(['check', '--namespace', 'default', before, after]);
      expect(run.stdout).toMatch(/^OK: no violations/);
      expect(run.status).toBe(0);
    }
  });

  test('fails catch-all-route when a Gateway\'s route that took every request loses its rule without match', async () => {
    const everything = (objects: any[]) => objects.map((o) => (o.kind === 'HTTPRoute' && o.metadata.name === 'bookinfo'
      ? { ...o, spec: { ...o.spec, rules: [...o.spec.rules, { backendRefs: [{ name: 'productpage', port: 9080 }] }] } } : o));
    const run = await cliInProcess(['check', '--namespace', 'default', stage(gatewayApi, everything), stage(gatewayApi)]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('error: HTTPRoute/bookinfo rules[0]  [catch-all-route]  the last route has a match, and in the previous stage this route, '
      + 'bound to gateways only, took every request: requests matching none of the routes now get 404 (no route)');
    // A route of the mesh still needs one, new or not.
    const vs = stage([...istio, 'istio/networking-virtual-service-all-v1.yaml'], (objects) => objects.map((o) => (o.kind === 'VirtualService' && o.metadata.name === 'reviews'
      ? { ...o, spec: { ...o.spec, http: [{ match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: o.spec.http[0].route }] } } : o)));
    const mesh = await cliInProcess(['check', '--namespace', 'default', vs, vs]);
    expect(mesh.stdout).toContain('error: VirtualService/reviews http[0]  [catch-all-route]  the last route has a match, so requests matching none of the routes get 404 (no route)');
  });
});

describe('Gateway API mesh conformance (kubernetes-sigs/gateway-api conformance/tests/mesh)', () => {
  const base = ['gateway-api/manifests.yaml'];

  test.each(['mesh-consumer-route.yaml', 'mesh-ports.yaml', 'mesh-frontend.yaml', 'httproute-weight.yaml'])('%s (routes the conformance suite requires to work) passes', async (route) => {
    const run = await cliInProcess(['check', stage(base), stage([...base, `gateway-api/${route}`])]);
    expect(run.stdout).toMatch(/^OK: no violations/);
    expect(run.status).toBe(0);
  });

  test('a consumer route (parent in another namespace) still needs a grant for a backend when it also attaches to a Gateway', async () => {
    const gateway = (objects: any[]) => objects.map((o) => (o.kind === 'HTTPRoute'
      ? { ...o, spec: { ...o.spec, parentRefs: [...o.spec.parentRefs, { name: 'public', namespace: 'infra' }] } } : o));
    const run = await cliInProcess(['check', stage(base), stage([...base, 'gateway-api/mesh-consumer-route.yaml'], gateway)]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("error: HTTPRoute/mesh-echo-add-header rules[0]  [reference-grant]  routes to Service gateway-conformance-mesh/echo-v1 in another namespace, which no ReferenceGrant in 'gateway-conformance-mesh' allows for HTTPRoutes of 'gateway-conformance-mesh-consumer'");
  });

  test('fails parent-ref: a route whose parent Service does not exist attaches to nothing, and its weights are not counted', async () => {
    const typo = (objects: any[]) => objects.map((o) => (o.kind === 'HTTPRoute' ? { ...o, spec: { ...o.spec, parentRefs: [{ group: '', kind: 'Service', name: 'ech0', port: 80 }] } } : o));
    const run = await cliInProcess(['check', stage(base), stage([...base, 'gateway-api/httproute-weight.yaml'], typo)]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('error: HTTPRoute/mesh-weighted-backends parentRefs[0]  [parent-ref]  names Service gateway-conformance-mesh/ech0 port 80, which does not exist '
      + 'in this stage: Istio does not accept the parent ("parent service not found"), so the parentRef attaches to nothing; no parentRef of the route attaches, so it routes nothing');
    expect(run.stdout).toContain('  fix: create Service gateway-conformance-mesh/ech0 in a stage before, or name an existing Service in the parentRef');
  });

  test('fails backend-kind: `group: core` for a Service (the core group is ""): Istio refuses the backendRef, its share fails', async () => {
    const core = (objects: any[]) => objects.map((o) => (o.kind === 'HTTPRoute' && o.metadata.name === 'mesh-weighted-backends'
      ? { ...o, spec: { ...o.spec, rules: [{ backendRefs: [{ group: 'core', kind: 'Service', name: 'echo-v1', port: 80, weight: 90 }, { name: 'echo-v2', port: 80, weight: 10 }] }] } } : o));
    const run = await cliInProcess(['check', stage(base), stage([...base, 'gateway-api/httproute-weight.yaml'], core)]);
    expect(run.stdout).toContain('error: HTTPRoute/mesh-weighted-backends rules[0]  [backend-kind]  routes to Service \'echo-v1\' of group "core", a backend Istio '
      + 'does not support ("referencing unsupported backendRef", ResolvedRefs False): its share of requests fails (500)');
    expect(run.stdout).toContain('  fix: write group: "" (or leave group out) for a Kubernetes Service');
    expect(run.status).toBe(1);
  });

  test('backend-kind: a mirror to an unsupported kind is a warning (Istio drops the mirror, the route serves)', async () => {
    const mirror = (objects: any[]) => objects.map((o) => (o.kind === 'HTTPRoute' && o.metadata.name === 'mesh-weighted-backends'
      ? { ...o, spec: { ...o.spec, rules: [{ ...o.spec.rules[0], filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { group: 'example.com', kind: 'Backend', name: 'tap', port: 80 } } }] }] } } : o));
    const run = await cliInProcess(['check', stage(base), stage([...base, 'gateway-api/httproute-weight.yaml'], mirror)]);
    expect(run.stdout).toContain('warning: HTTPRoute/mesh-weighted-backends rules[0]  [backend-kind]  mirrors to Backend \'tap\' of group "example.com"');
    expect(run.status).toBe(0);
  });

  test('fails service-selects-version still when a route on a per-version Service sends to another version', async () => {
    const other = (objects: any[]) => objects.map((o) => (o.kind === 'HTTPRoute' && o.metadata.name === 'mesh-split-v1'
      ? { ...o, spec: { ...o.spec, rules: [{ backendRefs: [{ name: 'echo-v1', port: 80, weight: 50 }, { name: 'echo-v2', port: 80, weight: 50 }] }] } } : o));
    const run = await cliInProcess(['check', stage(base), stage([...base, 'gateway-api/mesh-frontend.yaml'], other)]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("error: Service/echo-v2  [service-selects-version]  selector has 'version: v2'");
  });
});
