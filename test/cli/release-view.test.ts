/** The CLI reads a release the same way whatever router made it: Istio, Gateway API, or a Service selector switch. */
import { clusterDomainOf, releasesIn, releaseState } from '../../src/cli/release-view';
import { changesBetween, summarize } from '../../src/cli/stage-diff';

const annotations = (stage: string) => ({ 'mesh-release.io/stage': stage, 'mesh-release.io/plan-stages': 'blue,switch' });
const deployment = (version: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: `shop-${version}`, namespace: 'prod' },
  spec: { selector: { matchLabels: { app: 'shop', version } }, template: { metadata: { labels: { app: 'shop', version } }, spec: { containers: [] } } },
});
const service = (name: string, selector: object, extra: object = {}) =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'prod', ...extra }, spec: { selector, ports: [{ port: 80 }] } });

describe('release discovery is router-neutral', () => {
  test('an HTTPRoute carrying the plan annotation is a release: per-version Services are its routable versions, backendRef weights its split', () => {
    const manifests = [
      deployment('v1'), deployment('v2'),
      service('shop', { app: 'shop' }),
      service('shop-v1', { app: 'shop', version: 'v1' }),
      service('shop-v2', { app: 'shop', version: 'v2' }),
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'shop', namespace: 'prod', annotations: annotations('switch') },
        spec: {
          parentRefs: [{ group: '', kind: 'Service', name: 'shop' }],
          rules: [
            { matches: [{ headers: [{ type: 'Exact', name: 'x-version', value: 'v2' }] }], backendRefs: [{ name: 'shop-v2', port: 80 }] },
            { backendRefs: [{ name: 'shop-v1', port: 80, weight: 90 }, { name: 'shop-v2', port: 80, weight: 10 }] },
          ],
        },
      },
    ];
    const [release] = releasesIn(manifests);
    expect(release).toEqual({ name: 'shop', namespace: 'prod', kind: 'HTTPRoute', plan: ['blue', 'switch'], stage: 'switch' });
    expect(releaseState(manifests, release)).toEqual({
      deployed: ['v1', 'v2'],
      routable: ['v1', 'v2'],
      weights: [{ version: 'v1', weight: 90 }, { version: 'v2', weight: 10 }],
      matchRoutes: ['x-version=v2 → v2'],
    });
  });

  test('relative Gateway API weights (default 1) are shown as percentages', () => {
    const route = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'shop', namespace: 'prod', annotations: annotations('blue') },
      spec: { parentRefs: [{ group: '', kind: 'Service', name: 'shop' }], rules: [{ backendRefs: [{ name: 'shop-v1' }, { name: 'shop-v2', weight: 3 }] }] },
    };
    // The Service it attaches to (a route whose parent Service does not exist routes nothing).
    const parent = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'shop', namespace: 'prod' }, spec: { selector: { app: 'shop' }, ports: [{ name: 'http', port: 80 }] } };
    const [release] = releasesIn([route]);
    expect(releaseState([parent, route], release).weights).toEqual([{ version: 'shop-v1', weight: 25 }, { version: 'shop-v2', weight: 75 }]);
  });

  test('a version-free Service carrying the plan annotation (selector switch): the selected version takes 100%', () => {
    const manifests = [deployment('v1'), deployment('v2'), service('shop', { app: 'shop', version: 'v2' }, { annotations: annotations('switch') })];
    const [release] = releasesIn(manifests);
    expect(release.kind).toBe('Service');
    expect(releaseState(manifests, release)).toEqual({ deployed: ['v1', 'v2'], routable: ['v1', 'v2'], weights: [{ version: 'v2', weight: 100 }], matchRoutes: [] });
  });

  test('objects without the annotation, or of other kinds, are not releases; objects without a namespace take --namespace', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', annotations: annotations('blue') } };
    const vs = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'shop', annotations: annotations('blue') }, spec: {} };
    expect(releasesIn([cm, service('shop', { app: 'shop' })])).toEqual([]);
    expect(releasesIn([vs], 'prod')).toEqual([expect.objectContaining({ name: 'shop', namespace: 'prod', kind: 'VirtualService' })]);
  });
});

describe('per-stage changes', () => {
  test('created, changed (the stage annotation aside) and deleted, by group, kind, namespace and name', () => {
    const vs = (stage: string, weight: number) => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'shop', namespace: 'prod', annotations: annotations(stage) },
      spec: { http: [{ route: [{ destination: { host: 'shop', subset: 'v1' }, weight }] }] },
    });
    const before = [deployment('v1'), vs('blue', 100), service('shop', { app: 'shop' })];
    const same = [deployment('v1'), { ...vs('switch', 100), apiVersion: 'networking.istio.io/v1beta1' }, service('shop', { app: 'shop' })];
    expect(changesBetween(same, before)).toEqual({ created: [], changed: [], deleted: [] });
    const after = [deployment('v2'), vs('switch', 50), service('shop', { app: 'shop' })];
    const changes = changesBetween(after, before);
    expect(changes.created.map((m) => m.metadata.name)).toEqual(['shop-v2']);
    expect(changes.changed.map((m) => m.kind)).toEqual(['VirtualService']);
    expect(changes.deleted.map((m) => m.metadata.name)).toEqual(['shop-v1']);
    expect(summarize(changes)).toBe('+1 ~1 -1');
    expect(summarize(changesBetween(before, before))).toBe('-');
  });
});

describe('stage changes compare content, not key order', () => {
  const config = (data: object, extra: object = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'prod', ...extra }, data });

  test('the same object with keys in another order, or undefined members, is unchanged; a changed nested value or array order is a change', () => {
    const before = [config({ a: { x: 1, y: [1, 2] }, b: 'v' })];
    expect(changesBetween([config({ b: 'v', a: { y: [1, 2], x: 1 }, gone: undefined })], before).changed).toEqual([]);
    expect(changesBetween([config({ a: { x: 1, y: [2, 1] }, b: 'v' })], before).changed).toHaveLength(1);
    expect(changesBetween([config({ a: { x: 2, y: [1, 2] }, b: 'v' })], before).changed).toHaveLength(1);
    expect(changesBetween([config({ a: { x: 1, y: [1, 2] }, b: 'v' }, { labels: { l: '1' } })], before).changed).toHaveLength(1);
    // The stage annotation alone is no change; another annotation is.
    expect(changesBetween([config({ a: { x: 1, y: [1, 2] }, b: 'v' }, { annotations: { 'mesh-release.io/stage': 'next' } })],
      [config({ a: { x: 1, y: [1, 2] }, b: 'v' }, { annotations: { 'mesh-release.io/stage': 'prev' } })]).changed).toEqual([]);
    expect(changesBetween([config({ a: 1 }, { annotations: { other: 'x' } })], [config({ a: 1 }, { annotations: { other: 'y' } })]).changed).toHaveLength(1);
  });

  test('one object compared twice (as the later and the earlier stage) gives the same answer', () => {
    const a = [config({ k: 1 })];
    const b = [config({ k: 2 })];
    expect(changesBetween(b, a).changed).toHaveLength(1);
    expect(changesBetween(a, b).changed).toHaveLength(1);
    expect(changesBetween(a, a).changed).toHaveLength(0);
  });
});

describe('the cluster domain a release was synthesized for', () => {
  const release = (name: string, clusterDomain?: string) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'prod', annotations: { ...annotations('blue'), ...(clusterDomain ? { 'mesh-release.io/cluster-domain': clusterDomain } : {}) } },
    spec: { selector: { app: name }, ports: [{ port: 80 }] },
  });

  test('is read from mesh-release.io/cluster-domain; none means cluster.local; --cluster-domain wins', () => {
    expect(releasesIn([release('shop', 'corp.example')])[0].clusterDomain).toBe('corp.example');
    expect(clusterDomainOf(undefined, releasesIn([release('shop', 'corp.example'), release('cart', 'corp.example')]))).toBe('corp.example');
    expect(clusterDomainOf(undefined, releasesIn([release('shop')]))).toBeUndefined();
    expect(clusterDomainOf('cluster.local', releasesIn([release('shop', 'corp.example')]))).toBe('cluster.local');
  });

  test('releases of two domains need the flag', () => {
    expect(() => clusterDomainOf(undefined, releasesIn([release('shop', 'corp.example'), release('cart')])))
      .toThrow('the releases were synthesized for different cluster domains (prod/shop: corp.example, prod/cart: cluster.local): '
        + 'say which domain the cluster has with --cluster-domain');
  });
});
