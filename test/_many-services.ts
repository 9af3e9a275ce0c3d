/**
 * Hand-written manifests of many services (no cdk8s): the CLI tests and the benchmark's `check` phase.
 */

/** `n` services of a canary at `weight` % to v2, as plain objects (9 objects each). */
export function canaryOfServices(n: number, weight: number): any[] {
  const out: any[] = [];
  for (let i = 0; i < n; i++) {
    const app = `svc-${i}`;
    const host = `${app}.shop.svc.cluster.local`;
    out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: app, namespace: 'shop' }, spec: { selector: { app }, ports: [{ name: 'http', port: 80 }] } });
    for (const v of ['v1', 'v2']) {
      const meta = { name: `${app}-${v}`, namespace: 'shop' };
      out.push({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: meta,
        spec: { replicas: 3, selector: { matchLabels: { app, version: v } }, template: { metadata: { labels: { app, version: v } }, spec: { containers: [{ name: 'c', image: `x:${v}` }] } } },
      });
      out.push({
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: meta,
        spec: { minReplicas: 2, maxReplicas: 4, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: meta.name } },
      });
      out.push({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta, spec: { maxUnavailable: 1, selector: { matchLabels: { app, version: v } } } });
    }
    out.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: app, namespace: 'shop' },
      spec: { host, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] },
    });
    out.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: app, namespace: 'shop' },
      spec: { hosts: [host], http: [{ route: [{ destination: { host, subset: 'v1' }, weight: 100 - weight }, { destination: { host, subset: 'v2' }, weight }] }] },
    });
  }
  return out;
}
