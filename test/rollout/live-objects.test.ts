/**
 * Every step of the driver is checked against the objects live in the cluster (issue 20), on the in-memory fake API:
 * a forced first stage over an earlier release's live stage, and a planned step whose live objects were changed by hand.
 */
import { FakeKube, key, planOf, run } from './_fake-api';
import { STAGE_ANNOTATION } from '../../src/_conventions';
import { leftoversOf, readLiveObjects, stripServerFields } from '../../src/rollout/live-objects';

/** Puts `manifests` live as an earlier release left them, its routing object at stage `stage` (a name the next plan does not have). */
function leaveLive(kube: FakeKube, manifests: any[], stage: string): void {
  for (const m of manifests) {
    const annotations = m.metadata.annotations?.[STAGE_ANNOTATION]
      ? { ...m.metadata.annotations, [STAGE_ANNOTATION]: stage } : m.metadata.annotations;
    void kube.apply({ ...m, metadata: { ...m.metadata, annotations } }, 'shop');
  }
}

/** Another app's workload in the same namespace: never touched. */
function otherApp(kube: FakeKube): void {
  void kube.apply({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api-v0', namespace: 'shop', labels: { app: 'api', version: 'v0' } },
    spec: { replicas: 1, selector: { matchLabels: { app: 'api', version: 'v0' } }, template: { metadata: { labels: { app: 'api', version: 'v0' } }, spec: { containers: [{ name: 'api', image: 'api:0' }] } } },
  }, 'shop');
}

const ofVersion = (version: string) => (m: any) => m.metadata?.name === `web-${version}` && ['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'].includes(m.kind);

describe('--force over a live stage the plan does not know', () => {
  test('fails when the first stage drops the live subset in the step that moves the route off it: refused, nothing applied', async () => {
    // GIVEN an earlier release left the VirtualService routing to subset v0 (DestinationRule subset v0, Deployment web-v0)
    const kube = new FakeKube();
    leaveLive(kube, planOf('v0', 'v1').stages[0].manifests, 'released');
    otherApp(kube);
    kube.log.length = 0;

    // WHEN this plan (v1 -> v2) is forced over it
    const forced = await run(kube, planOf('v1', 'v2'), { options: { force: true } });

    // THEN its first stage is refused against the live objects, before anything of it is applied
    expect(forced.error?.message).toBe('applying stage stable over the objects live in the cluster (stage \'released\', which an earlier release left) '
      + 'is unsafe; nothing of it was applied:\n'
      + '  VirtualService/web http[0] [subset-before-route] routes to subset \'v1\' of web.shop.svc.cluster.local, which the previous stage did not define; '
      + 'the proxies may receive this route before the subset: add subset \'v1\' to the DestinationRule in a stage of its own, before the one that routes to it\n'
      + '  VirtualService/web http[0] [destination-ready] sends traffic to subset \'v1\' of web.shop.svc.cluster.local, whose Deployment Deployment/web-v1 did not '
      + 'exist in the previous stage, so it gets traffic before its pods are ready: deploy the version in a stage of its own, and route to it in the next one\n'
      + '  DestinationRule/web [subset-removed-while-routed] subset \'v0\' is removed while the previous stage\'s route still sends to it: '
      + 'remove \'v0\' from the route in one stage, then remove it in the next\n'
      + '  Deployment/web-v0 [deployment-removed-while-subset] is deleted while subset \'v0\' of DestinationRule/web in the previous stage, which a route '
      + 'names, still selects its pods: unroute and remove subset \'v0\' of DestinationRule/web in stages before deleting the Deployment\n'
      + 'Fix what is live (or the plan), then run the command again');
    expect(kube.log).toEqual([]);
    expect(kube.has('Deployment', 'web-v0')).toBe(true);
    expect(kube.store.get(key('VirtualService', 'shop', 'web')).metadata.annotations[STAGE_ANNOTATION]).toBe('released');
  });

  test('a first stage the live objects can safely follow is applied, and the leftovers of the earlier release are deleted after it', async () => {
    // GIVEN an earlier release ended routing all traffic to v1, and left the Deployment, autoscaler and budget of v0 behind
    const kube = new FakeKube();
    const earlier = planOf('v0', 'v1');
    leaveLive(kube, [...earlier.stages[earlier.stages.length - 1].manifests, ...earlier.stages[0].manifests.filter(ofVersion('v0'))], 'released');
    otherApp(kube);
    const leftovers = earlier.stages[0].manifests.filter(ofVersion('v0')).map((m: any) => `${m.kind}/${m.metadata.name}`);
    expect(leftovers).toContain('Deployment/web-v0');
    kube.log.length = 0;

    // WHEN this plan (v1 -> v2) is forced over it
    const forced = await run(kube, planOf('v1', 'v2'), { options: { force: true } });

    // THEN it completes; v0's objects were deleted in its first stage, after the apply, and the other app's are untouched
    expect(forced.error).toBeUndefined();
    expect(forced.exit).toBe(0);
    expect(forced.lines).toContain('stable: over the live stage this plan does not know: deleting what the release has live and this stage does not have, '
      + `after its apply, routes first: ${leftovers.join(', ')} (objects of other apps are not touched)`);
    expect(kube.log.indexOf('DELETE Deployment/web-v0')).toBeGreaterThan(kube.log.findIndex((l) => /^VS v1=100$/.test(l)));
    expect(kube.log.indexOf('DELETE Deployment/web-v0')).toBeLessThan(kube.log.indexOf('CREATE Deployment/web-v2'));
    for (const l of leftovers) {
      expect(kube.has(l.split('/')[0], l.split('/')[1])).toBe(false);
    }
    expect(kube.has('Deployment', 'api-v0')).toBe(true);
    expect(kube.has('Deployment', 'web-v2')).toBe(true);
  });
});

describe('over a live stage the plan does not know: what is deleted', () => {
  test('only the earlier versions\' objects (<app>-<version>), never other objects that carry the app label (a hand-made Service, a worker)', async () => {
    // GIVEN an earlier release ended on v1 and left v0 behind, and the team keeps objects of its own labelled app=web
    const kube = new FakeKube();
    const earlier = planOf('v0', 'v1');
    leaveLive(kube, [...earlier.stages[earlier.stages.length - 1].manifests, ...earlier.stages[0].manifests.filter(ofVersion('v0'))], 'released');
    void kube.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web-metrics', namespace: 'shop', labels: { app: 'web' } },
      spec: { ports: [{ name: 'metrics', port: 9090 }], selector: { app: 'web', component: 'metrics' } },
    }, 'shop');
    void kube.apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web-worker', namespace: 'shop', labels: { app: 'web', component: 'worker' } },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web-worker' } }, template: { metadata: { labels: { app: 'web-worker' } }, spec: { containers: [{ name: 'w', image: 'w:1' }] } } },
    }, 'shop');
    kube.log.length = 0;

    // WHEN this plan (v1 -> v2) is forced over it
    const forced = await run(kube, planOf('v1', 'v2'), { options: { force: true } });

    // THEN v0's objects are deleted, the team's own objects are not
    expect(forced.exit).toBe(0);
    expect(kube.has('Deployment', 'web-v0')).toBe(false);
    expect(kube.has('Service', 'web-metrics')).toBe(true);
    expect(kube.has('Deployment', 'web-worker')).toBe(true);
    expect(kube.log.filter((l) => l.startsWith('DELETE') && !l.endsWith('/web-v1'))).toEqual(['DELETE HorizontalPodAutoscaler/web-v0', 'DELETE PodDisruptionBudget/web-v0', 'DELETE Deployment/web-v0']);
    expect(forced.lines).toContain('stable: over the live stage this plan does not know: deleting what the release has live and this stage does not have, '
      + 'after its apply, routes first: Deployment/web-v0, HorizontalPodAutoscaler/web-v0, PodDisruptionBudget/web-v0 (objects of other apps are not touched)');
  });
});

describe('a new plan adopting where an earlier plan ended (its record: completed)', () => {
  test('fails when its first stage does not follow the earlier release\'s last stage safely: refused, nothing applied', async () => {
    // GIVEN v0 -> v1 completed (all traffic on v1, web-v0 deleted)
    const kube = new FakeKube();
    expect((await run(kube, planOf('v0', 'v1'))).exit).toBe(0);
    kube.log.length = 0;

    // WHEN a plan whose stable is v2 (not the live v1) starts over it
    const next = await run(kube, planOf('v2', 'v3'));

    // THEN its first stage (v2 routed as it is created, v1 dropped while routed) is refused against the live objects
    expect(next.error?.message).toMatch(/^applying stage stable over the objects live in the cluster \(stage 'retire', which an earlier release left\) is unsafe; nothing of it was applied:\n/);
    expect(next.error?.message).toContain('[destination-ready] sends traffic to subset \'v2\'');
    expect(next.error?.message).toContain('DestinationRule/web [subset-removed-while-routed] subset \'v1\' is removed while the previous stage\'s route still sends to it');
    expect(kube.log).toEqual([]);
    expect(kube.has('Deployment', 'web-v1')).toBe(true);
  });
});

describe('--force over hand-written Istio objects (the istio.io traffic-shifting example, for host web)', () => {
  /** The Istio docs' VirtualService and DestinationRule, written by hand (no mesh-release annotations), and the versions' Deployments. */
  function handWritten(kube: FakeKube, weights: { [version: string]: number }, deployed: string[] = Object.keys(weights)): void {
    const deployment = (version: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `web-${version}`, namespace: 'shop', labels: { app: 'web', version } },
      // replicas: 1 as in Istio's helloworld sample. With 2, the takeover by an autoscaled plan is refused by
      // replicas-removed-while-routed, although the driver's server-side apply (another field manager) keeps the field.
      spec: { replicas: 1, selector: { matchLabels: { app: 'web', version } }, template: { metadata: { labels: { app: 'web', version } }, spec: { containers: [{ name: 'web', image: `web:${version}` }] } } },
    });
    for (const version of deployed) {
      void kube.apply(deployment(version), 'shop');
    }
    void kube.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } }, spec: { ports: [{ name: 'http', port: 8080 }], selector: { app: 'web' } } }, 'shop');
    void kube.apply({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { host: 'web', subsets: deployed.map((v) => ({ name: v, labels: { version: v } })) },
    }, 'shop');
    void kube.apply({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { hosts: ['web'], http: [{ route: Object.entries(weights).map(([v, weight]) => ({ destination: { host: 'web', subset: v }, weight })) }] },
    }, 'shop');
  }

  test('fails when the hand-written route still sends to a version the first stage drops', async () => {
    const kube = new FakeKube();
    handWritten(kube, { v1: 50, v3: 50 });
    kube.log.length = 0;
    const forced = await run(kube, planOf('v1', 'v2'), { options: { force: true } });
    expect(forced.error?.message).toMatch(/^applying stage stable over the objects live in the cluster \(stage '\(no mesh-release.io\/stage annotation\)', which an earlier release left\)/);
    expect(forced.error?.message).toMatch(/DestinationRule\/web \[subset-removed-while-routed\] subset 'v3' is removed while the previous stage's route still sends to it/);
    expect(kube.log).toEqual([]);
    expect(kube.has('Deployment', 'web-v3')).toBe(true);
  });

  test('takes over a hand-written route on v1 alone: applied, the unrouted web-v3 deleted', async () => {
    const kube = new FakeKube();
    handWritten(kube, { v1: 100 }, ['v1', 'v3']);
    kube.log.length = 0;
    const forced = await run(kube, planOf('v1', 'v2'), { options: { force: true, to: 'stable' } });
    expect(forced.error).toBeUndefined();
    expect(forced.exit).toBe(0);
    expect(kube.has('Deployment', 'web-v3')).toBe(false);
    expect(kube.has('Deployment', 'web-v1')).toBe(true);
  });
});

describe('a planned step whose live objects were changed by hand', () => {
  test('fails when the stable subset was removed from the live DestinationRule by hand: refused with the rule, nothing applied', async () => {
    // GIVEN the release at shift-10, then subset v1 (the stable's, 90% of the traffic) removed from the DestinationRule by hand
    const kube = new FakeKube();
    const plan = planOf('v1', 'v2');
    expect((await run(kube, plan, { options: { to: 'shift-10' } })).exit).toBe(0);
    const dr = kube.store.get(key('DestinationRule', 'shop', 'web'));
    dr.spec.subsets = dr.spec.subsets.filter((s: any) => s.name !== 'v1');
    kube.log.length = 0;

    // WHEN the rollout goes on
    const next = await run(kube, plan);

    // THEN shift-50 is refused against what is live: it routes to a subset the live DestinationRule does not define
    expect(next.error?.message).toBe('applying stage shift-50 over the objects live in the cluster (stage \'shift-10\') is unsafe; nothing of it was applied:\n'
      + '  VirtualService/web http[0] [subset-before-route] routes to subset \'v1\' of web.shop.svc.cluster.local, which the previous stage did not define; '
      + 'the proxies may receive this route before the subset: add subset \'v1\' to the DestinationRule in a stage of its own, before the one that routes to it\n'
      + 'Fix what is live (or the plan), then run the command again');
    expect(kube.log).toEqual([]);
    expect(kube.record()).toMatchObject({ stage: 'shift-10' });
  });

  test('fails to roll back when the stable subset was removed from the live DestinationRule by hand', async () => {
    // GIVEN the release at shift-10, then subset v1 removed from the DestinationRule by hand
    const kube = new FakeKube();
    const plan = planOf('v1', 'v2');
    expect((await run(kube, plan, { options: { to: 'shift-10' } })).exit).toBe(0);
    const dr = kube.store.get(key('DestinationRule', 'shop', 'web'));
    dr.spec.subsets = dr.spec.subsets.filter((s: any) => s.name !== 'v1');
    kube.log.length = 0;

    // WHEN it is aborted
    const aborted = await run(kube, plan, { command: 'abort' });

    // THEN the step back is refused: routing back to v1 needs its subset a stage before
    expect(aborted.error?.message).toMatch(/^rolling back to stage deploy over the objects live in the cluster \(stage 'shift-10'\) is unsafe; nothing of it was applied:\n/);
    expect(aborted.error?.message).toMatch(/\[subset-before-route\] routes to subset 'v1'/);
    expect(aborted.error?.message).toMatch(/The release stays where it is, being rolled back: fix what is live, then run `mesh-release abort`$/);
    expect(kube.log).toEqual([]);
  });
});

describe('readLiveObjects', () => {
  test('one list per kind and namespace; server fields stripped; other apps left out', async () => {
    const kube = new FakeKube();
    const plan = planOf('v1', 'v2');
    leaveLive(kube, plan.stages[2].manifests, 'deploy');
    otherApp(kube);
    const lists: string[] = [];
    const list = kube.list.bind(kube);
    kube.list = async (a: string, kind: string, ns: string, selector?: string) => {
      lists.push(`${kind} ${selector ?? ''}`);
      return list(a, kind, ns, selector);
    };
    const live = await readLiveObjects(kube as any, plan.stages[1].manifests, [], plan.releases, 'shop');
    expect(lists.length).toBe(new Set(lists).size);
    expect(live.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort())
      .toEqual(plan.stages[2].manifests.map((o: any) => `${o.kind}/${o.metadata.name}`).sort());
    expect(live.objects.every((o) => o.status === undefined && o.metadata.generation === undefined)).toBe(true);
    const names = (objects: any[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`);
    const earlier = new Set(names(plan.stages[1].manifests));
    expect(names(leftoversOf(live, plan.stages[1].manifests, 'shop'))).toEqual(names(plan.stages[2].manifests).filter((n) => !earlier.has(n)));
  });

  test('stripServerFields keeps what a stage writes', () => {
    expect(stripServerFields({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', labels: { app: 'web' }, uid: 'u', resourceVersion: '3', generation: 2, creationTimestamp: 't', managedFields: [{}] },
      spec: { selector: { app: 'web' } },
      status: { loadBalancer: {} },
    })).toEqual({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', labels: { app: 'web' } }, spec: { selector: { app: 'web' } } });
  });
});
