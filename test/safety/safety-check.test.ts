/**
 * `SafetyCheck` (src/safety/safety-check.ts) on plain manifests: every rule has a violating case that reports it
 * alone, manifests are read as kubectl would (Lists, cluster domains), hand-written YAML and MeshRelease stages,
 * order independence, formatting. Rule by rule: test/safety/rules/ (shared rules) and
 * test/routing/<router>/ (a router's own); the manifests and cases they share: `_cases.ts`.
 */
import { Testing } from 'cdk8s';
import { APP, fixture, patched, rulesOf, stage, violating, violation, warning, WARNINGS, weighted } from './_cases';
import { MeshRelease, ReleasePlan, SafetyCheck, SafetyRule, SafetyViolation, Severity } from '../../src';

describe('every SafetyRule', () => {
  test.each(Object.values(SafetyRule))('%s has a violating case that reports that rule and no other', (rule) => {
    // GIVEN the violating case of the rule
    const { previous, current, options } = violating(rule);

    // WHEN checking it
    const violations = SafetyCheck.check(current, previous, options);

    // THEN only that rule is broken, with the rule's severity
    expect(violations.length).toBeGreaterThan(0);
    expect(new Set(rulesOf(violations))).toEqual(new Set([rule]));
    expect(new Set(violations.map((v) => v.severity))).toEqual(new Set([WARNINGS.has(rule) ? Severity.WARNING : Severity.ERROR]));
  });
});

describe('reading manifests', () => {
  test('cluster-domain.yaml: hosts in another cluster domain are refused, and checked with options.clusterDomain', () => {
    // GIVEN hosts written as reviews.bookinfo.svc.corp.internal, 10% to v2 which does not run
    const manifests = fixture('cluster-domain.yaml');

    // WHEN checking with the default domain, then with corp.internal
    // THEN with cluster.local the check refuses to guess: each object names its hosts of the other domain
    expect(rulesOf(SafetyCheck.check(manifests))).toEqual([SafetyRule.CLUSTER_DOMAIN, SafetyRule.CLUSTER_DOMAIN]);
    // AND with the cluster's domain the missing version is found
    expect(SafetyCheck.check(manifests, undefined, { clusterDomain: 'corp.internal' })).toEqual([violation(SafetyRule.DESTINATION_READY, 'VirtualService/reviews http[0]',
      ["sends traffic to subset 'v2' of reviews.bookinfo.svc.corp.internal", 'no Deployment of this stage has pods it selects'], ['deploy the version'])]);
  });

  test('short hosts are qualified with the cluster domain given', () => {
    // GIVEN the SUBSET_DEFINED case (short hosts)
    const { current } = violating(SafetyRule.SUBSET_DEFINED);

    // WHEN / THEN the host in the message is in corp.internal
    expect(SafetyCheck.check(current, undefined, { clusterDomain: 'corp.internal' })).toEqual([violation(SafetyRule.SUBSET_DEFINED, 'VirtualService/helloworld http[0]',
      ["routes to subset 'v2' of helloworld.default.svc.corp.internal"], ["add subset 'v2' to the DestinationRule of helloworld.default.svc.corp.internal"])]);
  });

  test('list-wrapped.yaml: the items of a kind: List are checked, nested Lists too', () => {
    // GIVEN the missing-subset stage as one v1 List
    const [list] = fixture('list-wrapped.yaml');
    expect(list.kind).toBe('List');
    const expected = [violation(SafetyRule.SUBSET_DEFINED, 'VirtualService/reviews http[0]', ["routes to subset 'v2' of reviews.bookinfo.svc.cluster.local"], ["add subset 'v2'"])];

    // WHEN / THEN as a List, as a List inside a List, and as the previous stage too
    expect(SafetyCheck.check([list])).toEqual(expected);
    expect(SafetyCheck.check([{ apiVersion: 'v1', kind: 'List', items: [list] }])).toEqual(expected);
    expect(SafetyCheck.check([list], fixture('missing-subset.yaml'))).toEqual(expected);
  });

  test('a List and its items given side by side are duplicates', () => {
    const [list] = fixture('list-wrapped.yaml');
    expect(new Set(rulesOf(SafetyCheck.check([list, ...fixture('missing-subset.yaml')])))).toEqual(new Set([SafetyRule.DUPLICATE_OBJECT, SafetyRule.SUBSET_DEFINED]));
  });
});

describe('hand-written YAML (bookinfo reviews)', () => {
  const REVIEWS = 'reviews.bookinfo.svc.cluster.local';

  test('a correct canary stage pair (deploy, then 90/10) has no violation', () => {
    // GIVEN the deploy stage (v1 100, v2 0) and the shift-10 stage (90/10), both versions deployed in both
    const previous = fixture('canary-deploy.yaml');
    const current = fixture('canary-shift-10.yaml');

    // WHEN checking each stage and the transition
    // THEN there are no violations at all
    expect(SafetyCheck.check(previous)).toEqual([]);
    expect(SafetyCheck.check(current)).toEqual([]);
    expect(SafetyCheck.check(current, previous)).toEqual([]);
  });

  test('missing-subset.yaml: a subset routed but missing from the DestinationRule', () => {
    // GIVEN 10% routed to subset v2, which the DestinationRule does not define
    const manifests = fixture('missing-subset.yaml');

    // WHEN checking the stage
    const violations = SafetyCheck.check(manifests);

    // THEN v2 is reported as undefined (the cause; no second violation for its pods)
    expect(violations).toEqual([
      violation(SafetyRule.SUBSET_DEFINED, 'VirtualService/reviews http[0]',
        [`routes to subset 'v2' of ${REVIEWS}`, 'which no DestinationRule of this stage defines'],
        [`add subset 'v2' to the DestinationRule of ${REVIEWS}`]),
    ]);
  });

  test('missing-subset.yaml after the correct deploy stage: the same, with the subset also missing from the previous stage', () => {
    // GIVEN the previous stage defined v2; this one drops it and routes 10% to it
    const violations = SafetyCheck.check(fixture('missing-subset.yaml'), fixture('canary-deploy.yaml'));

    // THEN removing v2 while it was listed (weight 0) is reported too
    expect(rulesOf(violations)).toEqual([SafetyRule.SUBSET_DEFINED, SafetyRule.SUBSET_REMOVED_WHILE_ROUTED]);
    expect(violations[1]).toEqual(violation(SafetyRule.SUBSET_REMOVED_WHILE_ROUTED, 'DestinationRule/reviews', ["subset 'v2' is removed"], ["remove 'v2' from the route"]));
  });

  test('stale-subset.yaml: a subset with weight whose Deployment is gone', () => {
    // GIVEN subset v1 still at 10%, Deployment reviews-v1 gone
    const manifests = fixture('stale-subset.yaml');

    // WHEN checking the stage
    const violations = SafetyCheck.check(manifests);

    // THEN v1 is reported as having no pods
    expect(violations).toEqual([violation(SafetyRule.DESTINATION_READY, 'VirtualService/reviews http[0]',
      [`sends traffic to subset 'v1' of ${REVIEWS}`, 'no Deployment of this stage has pods it selects'],
      ['deploy the version'])]);
  });

  test('deployment-deleted-*.yaml: an unrouted Deployment deleted while its subset stays is no error, the subset is stale', () => {
    // GIVEN the unroute stage, then the same with reviews-v1 deleted but subset v1 kept
    const previous = fixture('deployment-deleted-before.yaml');
    const current = fixture('deployment-deleted-after.yaml');

    // WHEN checking the transition
    const violations = SafetyCheck.check(current, previous);

    // THEN no route names v1, so no request is lost: subset v1 is reported as stale (warning) only
    expect(violations).toEqual([
      warning(SafetyRule.STALE_SUBSET, 'DestinationRule/reviews', [`subset 'v1' of ${REVIEWS} selects no pods and was already there in the previous stage`],
        [`remove subset 'v1' of ${REVIEWS}, or deploy its version`]),
    ]);
    // AND each stage on its own is fine (v1 is unrouted)
    expect(SafetyCheck.check(previous)).toEqual([]);
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('deployment-deleted-*.yaml with v1 still listed at weight 0: the Deployment is deleted while routed', () => {
    // GIVEN both stages with v1 kept in the route at weight 0
    const listV1 = (manifests: any[]) => patched(manifests, 'VirtualService', (vs) => {
      vs.spec.http[0].route.unshift({ destination: { host: 'reviews', subset: 'v1' }, weight: 0 });
    });

    // WHEN checking the transition
    const violations = SafetyCheck.check(listV1(fixture('deployment-deleted-after.yaml')), listV1(fixture('deployment-deleted-before.yaml')));

    // THEN reviews-v1 is reported once
    expect(violations).toEqual([
      violation(SafetyRule.DEPLOYMENT_REMOVED_WHILE_SUBSET, 'Deployment/reviews-v1',
        ["is deleted while subset 'v1' of DestinationRule/reviews in the previous stage, which a route names, still selects its pods"],
        ["unroute and remove subset 'v1' of DestinationRule/reviews in stages before deleting the Deployment"]),
    ]);
  });

  test('header-route-without-catch-all.yaml: a header route with no fallback', () => {
    // GIVEN one route, matching end-user: jason, and nothing after it
    const manifests = fixture('header-route-without-catch-all.yaml');

    // WHEN checking the stage
    const violations = SafetyCheck.check(manifests);

    // THEN the route is blamed
    expect(violations).toEqual([violation(SafetyRule.CATCH_ALL_ROUTE, 'VirtualService/reviews http[0]',
      ['the last route has a match', 'requests matching none of the routes get 404'],
      ['end http with a route that has no match'])]);
  });

  test('fqdn-host.yaml: the FQDN reviews.bookinfo.svc.cluster.local matches the short reviews', () => {
    // GIVEN a DestinationRule on the FQDN, a VirtualService routing to the short name
    const manifests = fixture('fqdn-host.yaml');

    // WHEN checking it alone, and after a stage whose DestinationRule used the short name
    // THEN the subsets are found: no violation
    expect(SafetyCheck.check(manifests)).toEqual([]);
    expect(SafetyCheck.check(manifests, fixture('canary-deploy.yaml'))).toEqual([]);
    expect(SafetyCheck.check(fixture('canary-deploy.yaml'), manifests)).toEqual([]);
  });

  test('other-namespace-host.yaml: reviews.other does not match the bookinfo DestinationRule of reviews', () => {
    // GIVEN the route names reviews.other, the DestinationRule (in bookinfo) names reviews
    const manifests = fixture('other-namespace-host.yaml');

    // WHEN checking the stage
    const violations = SafetyCheck.check(manifests);

    // THEN subset v1 of reviews.other is undefined, and only that is reported (it is the cause)
    expect(violations[0]).toEqual(violation(SafetyRule.SUBSET_DEFINED, 'VirtualService/reviews http[0]',
      ["routes to subset 'v1' of reviews.other", 'which no DestinationRule of this stage defines'],
      ["add subset 'v1' to the DestinationRule of reviews.other"]));
    expect(rulesOf(violations)).toEqual([SafetyRule.SUBSET_DEFINED]);
  });

  test('a Deployment of the same labels in another namespace does not make a destination ready', () => {
    // GIVEN the shift-10 stage with reviews-v2 living in namespace staging instead of bookinfo
    const manifests = fixture('canary-shift-10.yaml').map((m) =>
      (m.kind === 'Deployment' && m.metadata.name === 'reviews-v2' ? { ...m, metadata: { ...m.metadata, namespace: 'staging' } } : m));

    // WHEN / THEN expected: DESTINATION_READY for subset v2
    expect(rulesOf(SafetyCheck.check(manifests))).toEqual([SafetyRule.DESTINATION_READY]);
  });

  test('a DestinationRule on reviews.bookinfo (namespace-qualified, not FQDN) does not define subsets for reviews', () => {
    // GIVEN the shift-10 stage with the DestinationRule's host written `reviews.bookinfo`
    const manifests = fixture('canary-shift-10.yaml').map((m) =>
      (m.kind === 'DestinationRule' ? { ...m, spec: { ...m.spec, host: 'reviews.bookinfo' } } : m));

    // WHEN / THEN expected: SUBSET_DEFINED for v1 and v2
    expect(rulesOf(SafetyCheck.check(manifests))).toContain(SafetyRule.SUBSET_DEFINED);
  });
});

describe('MeshRelease stages of ReleasePlan.canary', () => {
  const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50] });
  const synthesized = new Map(plan.stageNames.map((name) => {
    const chart = Testing.chart();
    new MeshRelease(chart, 'helloworld', {
      app: 'helloworld',
      port: 3000,
      versions: [{ version: 'v1', image: 'a:1' }, { version: 'v2', image: 'a:2' }],
      stage: plan.stage(name),
    });
    return [name, Testing.synth(chart)] as const;
  }));
  const synth = (name: string) => synthesized.get(name)!;

  test('synthesizes every stage of the plan', () => {
    expect([...synthesized.keys()]).toEqual(['stable', 'make-routable', 'deploy', 'shift-10', 'shift-50', 'shift-100', 'unroute', 'drop-routable', 'retire']);
  });

  test.each(plan.stageNames.map((name, i) => [name, plan.stageNames[i - 1] ?? 'nothing']))('%s (after %s) is safe, alone and as a transition', (name, previous) => {
    // GIVEN the synthesized stage and the one before it
    const current = synth(name);

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
    if (previous !== 'nothing') {
      expect(SafetyCheck.check(current, synth(previous))).toEqual([]);
    }
  });

  test('skipping deploy: shift-10 right after make-routable gives v2 traffic before its pods are ready', () => {
    // GIVEN make-routable (v2 not deployed) applied, then shift-10
    const violations = SafetyCheck.check(synth('shift-10'), synth('make-routable'));

    // THEN
    expect(violations).toEqual([violation(SafetyRule.DESTINATION_READY, 'VirtualService/helloworld http[0]',
      ["sends traffic to subset 'v2' of helloworld.default.svc.cluster.local", 'Deployment/helloworld-v2 did not exist in the previous stage'],
      ['deploy the version in a stage of its own'])]);
  });

  test('skipping unroute: drop-routable right after shift-100 removes v1 while it is still listed at weight 0', () => {
    const violations = SafetyCheck.check(synth('drop-routable'), synth('shift-100'));

    expect(violations).toEqual([violation(SafetyRule.SUBSET_REMOVED_WHILE_ROUTED, 'DestinationRule/helloworld',
      ["subset 'v1' is removed while the previous stage's route still sends to it"],
      ["remove 'v1' from the route in one stage, then remove it in the next"])]);
  });

  test('skipping drop-routable: retire right after unroute is safe, since nothing routes to v1 any more', () => {
    // GIVEN unroute applied (v1 out of every route), then retire (subset v1 and helloworld-v1 go together)
    // WHEN / THEN no request can reach v1: nothing to report
    expect(SafetyCheck.check(synth('retire'), synth('unroute'))).toEqual([]);
  });

  test('skipping make-routable and deploy: shift-10 right after stable routes to a subset and pods that did not exist', () => {
    const violations = SafetyCheck.check(synth('shift-10'), synth('stable'));

    expect(violations).toEqual([
      violation(SafetyRule.SUBSET_BEFORE_ROUTE, 'VirtualService/helloworld http[0]',
        ["routes to subset 'v2' of helloworld.default.svc.cluster.local", 'which the previous stage did not define'],
        ["add subset 'v2' to the DestinationRule in a stage of its own"]),
      violation(SafetyRule.DESTINATION_READY, 'VirtualService/helloworld http[0]', ["subset 'v2'", 'Deployment/helloworld-v2 did not exist in the previous stage'], ['deploy the version']),
    ]);
  });

  test('skipping make-routable: deploy right after stable is still safe, since nothing routes to v2 yet', () => {
    // GIVEN stable, then deploy (subset v2 and helloworld-v2 appear together, v2 not in the route)
    // WHEN / THEN no rule is broken
    expect(SafetyCheck.check(synth('deploy'), synth('stable'))).toEqual([]);
  });

  test('going backwards: make-routable right after deploy (removing the unrouted v2) is no error', () => {
    // GIVEN deploy applied (helloworld-v2 runs, nothing routes to it), then make-routable again
    const violations = SafetyCheck.check(synth('make-routable'), synth('deploy'));

    // THEN no request can be lost; subset v2, left without pods, is a warning
    expect(SafetyCheck.errors(violations)).toEqual([]);
    expect(violations).toEqual([warning(SafetyRule.STALE_SUBSET, 'DestinationRule/helloworld', ["subset 'v2' of helloworld.default.svc.cluster.local selects no pods"], ["remove subset 'v2'"])]);
  });

  test('going backwards one step at a time (shift-100 -> shift-50 -> shift-10 -> deploy) is safe', () => {
    for (const [current, previous] of [['shift-50', 'shift-100'], ['shift-10', 'shift-50'], ['deploy', 'shift-10']]) {
      expect(SafetyCheck.check(synth(current), synth(previous))).toEqual([]);
    }
  });

  test('going backwards: stable right after shift-10 is caught', () => {
    // GIVEN shift-10 applied, then stable (subset v2 and helloworld-v2 removed while v2 had 10%)
    const violations = SafetyCheck.check(synth('stable'), synth('shift-10'));

    // THEN both removals are reported
    expect(rulesOf(violations)).toEqual([SafetyRule.SUBSET_REMOVED_WHILE_ROUTED, SafetyRule.DEPLOYMENT_REMOVED_WHILE_SUBSET]);
    expect(violations.map((v) => v.object)).toEqual(['DestinationRule/helloworld', 'Deployment/helloworld-v2']);
  });

  test('two MeshReleases of one app synthesized into one stage collide on every object (duplicate-object)', () => {
    // GIVEN the same release synthesized in two charts, applied together
    const synthOne = () => {
      const chart = Testing.chart();
      new MeshRelease(chart, 'helloworld', { app: APP, port: 3000, versions: [{ version: 'v1', image: 'a:1' }, { version: 'v2', image: 'a:2' }], stage: plan.stage('stable') });
      return Testing.synth(chart);
    };
    const one = synthOne();

    // WHEN / THEN every object is reported as a duplicate, errors only
    const violations = SafetyCheck.check([...one, ...synthOne()]);
    expect(new Set(rulesOf(violations))).toEqual(new Set([SafetyRule.DUPLICATE_OBJECT]));
    expect(violations.map((v) => v.object).sort()).toEqual(one.map((m) => `${m.kind}/${m.metadata.name}`).sort());
  });
});

describe('violations do not depend on the order of the manifests', () => {
  // A subset whose labels select several versions' Deployments: the messages list them by name, whatever the order
  // (found by the shuffle property of test/property.test.ts: "Deployment/web-v2, Deployment/web-v1" in one order).
  const webDeployment = (version: string, replicas: number) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `web-${version}`, namespace: 'shop' },
    spec: { replicas, selector: { matchLabels: { app: 'web', version } }, template: { metadata: { labels: { app: 'web', version } }, spec: { containers: [{ name: 'web', image: `web:${version}` }] } } },
  });
  const webService = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] } };
  const routing = (subsets: any[], version: string) => [
    { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'web', namespace: 'shop' }, spec: { host: 'web', subsets } },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { hosts: ['web'], http: [{ route: [{ destination: { host: 'web', subset: version }, weight: 100 }] }] },
    },
  ];
  // Subset v1 selects every pod of web: in the current stage, web-v1's and web-v2's.
  const previous = [webService, webDeployment('v1', 3), ...routing([{ name: 'v1', labels: { app: 'web' } }], 'v1')];
  const current = [webService, webDeployment('v1', 1), webDeployment('v2', 1),
    ...routing([{ name: 'v1', labels: { app: 'web' } }, { name: 'v2', labels: { version: 'v2' } }], 'v2')];

  test('rollback-capacity names the Deployments behind a subset in the same order either way', () => {
    const forward = SafetyCheck.check(current, previous);
    const backward = SafetyCheck.check([...current].reverse(), [...previous].reverse());
    expect(forward.filter((v) => v.rule === SafetyRule.ROLLBACK_CAPACITY).map((v) => v.object)).toEqual(['Deployment/web-v1, Deployment/web-v2']);
    const text = (vs: SafetyViolation[]) => vs.map((v) => JSON.stringify(v)).sort();
    expect(text(backward)).toEqual(text(forward));
  });

  /** The violations of `current` after `before`, as sorted JSON, in the given order and reversed: both must be equal. */
  const bothOrders = (objects: any[], before?: any[]) => [
    SafetyCheck.check(objects, before), SafetyCheck.check([...objects].reverse(), before && [...before].reverse()),
  ].map((vs) => vs.map((v) => JSON.stringify(v)).sort());
  const webVirtualService = (name: string, namespace: string) => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, namespace },
    spec: { hosts: ['web.shop.svc.cluster.local'], http: [{ route: [{ destination: { host: 'web.shop.svc.cluster.local', subset: 'v1' } }] }] },
  });
  const subsetV1 = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'web', namespace: 'shop' }, spec: { host: 'web', subsets: [{ name: 'v1', labels: { version: 'v1' } }] } };
  /** A VirtualService sending 50% to subset v1 and 50% to subset v2 of web. */
  const split = { ...webVirtualService('web', 'shop'), spec: { hosts: ['web'], http: [{ route: [{ destination: { host: 'web', subset: 'v1' }, weight: 50 }, { destination: { host: 'web', subset: 'v2' }, weight: 50 }] }] } };

  test('one-virtual-service-per-host names the first VirtualService by namespace and name, in either order', () => {
    const [forward, backward] = bothOrders([webService, webDeployment('v1', 2), subsetV1, webVirtualService('web', 'shop'), webVirtualService('web-canary', 'shop')]);
    expect(backward).toEqual(forward);
    expect(forward.filter((v) => v.includes('one-virtual-service-per-host')).map((v) => JSON.parse(v).object)).toEqual(['VirtualService/web-canary']);
  });

  test('one-virtual-service-per-host compares namespaces too: VirtualServices of one name in two namespaces on one host', () => {
    const [forward, backward] = bothOrders([webService, webDeployment('v1', 2), subsetV1, webVirtualService('web', 'shop'), webVirtualService('web', 'edge')]);
    expect(backward).toEqual(forward);
    const found = forward.map((v) => JSON.parse(v)).filter((v) => v.rule === SafetyRule.ONE_VIRTUAL_SERVICE_PER_HOST);
    expect(found.map((v) => v.message)).toEqual([expect.stringContaining('like VirtualService/web (namespace edge)')]);
  });

  test('a subset two DestinationRules define differently: the first by name counts, in either order', () => {
    // web-extra's v2 selects pods of no Deployment; web's (first by name, as istiod breaks ties) selects web-v2's.
    const rules = [
      { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'web', namespace: 'shop' }, spec: { host: 'web', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } },
      { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'web-extra', namespace: 'shop' }, spec: { host: 'web', subsets: [{ name: 'v2', labels: { version: 'v3' } }] } },
    ];
    const objects = [webService, webDeployment('v1', 2), webDeployment('v2', 2), ...rules, split];
    const [forward, backward] = bothOrders(objects, objects);
    expect(backward).toEqual(forward);
    expect(forward.filter((v) => v.includes('"error"'))).toEqual([]);
  });

  test('two autoscalers on one Deployment: the floor is its replicas (the HPA controller scales with neither), in either order', () => {
    const hpa = (name: string, minReplicas: number) => ({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name, namespace: 'shop' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-v2' }, minReplicas, maxReplicas: 10 },
    });
    const rules = { ...subsetV1, spec: { host: 'web', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } };
    const objects = [webService, webDeployment('v1', 10), webDeployment('v2', 1), rules, split, hpa('a', 1), hpa('b', 5)];
    const [forward, backward] = bothOrders(objects, objects);
    expect(backward).toEqual(forward);
    const capacity = forward.map((v) => JSON.parse(v)).filter((v) => v.rule === SafetyRule.CAPACITY);
    expect(capacity.map((v) => v.message)).toEqual([expect.stringContaining('on 1 guaranteed pod(s)')]);
  });
});

describe('SafetyCheck.assertSafe and format', () => {
  const TWO: SafetyViolation[] = [
    { rule: SafetyRule.WEIGHTS, severity: Severity.ERROR, object: 'VirtualService/helloworld http[0]', message: 'weights add up to 110, not 100', fix: 'make them add up to 100' },
    { rule: SafetyRule.CATCH_ALL_ROUTE, severity: Severity.ERROR, object: 'VirtualService/helloworld http[1]', message: 'the last route has a match', fix: 'add a catch-all' },
  ];

  test('format writes one line per violation', () => {
    expect(SafetyCheck.format(TWO)).toBe([
      '[weights] VirtualService/helloworld http[0]: weights add up to 110, not 100. Fix: make them add up to 100',
      '[catch-all-route] VirtualService/helloworld http[1]: the last route has a match. Fix: add a catch-all',
    ].join('\n'));
    expect(SafetyCheck.format([])).toBe('');
  });

  test('assertSafe throws with the context and every violation line', () => {
    // GIVEN a stage breaking two rules (weights 90/20, subset v3 undefined at weight 0)
    const current = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 90], ['v2', 20], ['v3', 0]]));
    const violations = SafetyCheck.check(current);
    expect(rulesOf(violations)).toEqual([SafetyRule.WEIGHTS, SafetyRule.SUBSET_DEFINED]);

    // WHEN asserting it is safe
    let error: Error | undefined;
    try {
      SafetyCheck.assertSafe(current, undefined, 'helloworld stage shift-10');
    } catch (e) {
      error = e as Error;
    }

    // THEN the message starts with the context and the count, then lists every violation
    expect(error).toBeDefined();
    expect(error!.message).toBe(`helloworld stage shift-10 is unsafe to apply (2 violations):\n${SafetyCheck.format(violations)}`);
    for (const v of violations) {
      expect(error!.message).toContain(`[${v.rule}] ${v.object}: ${v.message}. Fix: ${v.fix}`);
    }
  });

  test('assertSafe checks the transition and defaults the context to "stage"', () => {
    // GIVEN the violating transition of SUBSET_BEFORE_ROUTE
    const { previous, current } = violating(SafetyRule.SUBSET_BEFORE_ROUTE);

    // WHEN / THEN one violation, singular, with the default context
    expect(() => SafetyCheck.assertSafe(current, previous)).toThrow(
      'stage is unsafe to apply (1 violation):\n[subset-before-route] VirtualService/helloworld http[0]: routes to subset \'v2\'');
    // AND the same stage alone is safe
    expect(() => SafetyCheck.assertSafe(current)).not.toThrow();
  });

  test('assertSafe does not throw for a safe transition', () => {
    expect(() => SafetyCheck.assertSafe(fixture('canary-shift-10.yaml'), fixture('canary-deploy.yaml'), 'reviews')).not.toThrow();
  });
});

describe('inputs the check ignores', () => {
  test('other kinds, non-Istio APIs, and non-objects are skipped', () => {
    // GIVEN a ConfigMap, a VirtualService of another API group, and junk entries
    const manifests = [
      null, 'text', 42,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
      { apiVersion: 'example.com/v1', kind: 'VirtualService', metadata: { name: 'x' }, spec: { http: [{ match: [{}], route: [{ destination: { host: 'x', subset: 'nope' }, weight: 7 }] }] } },
    ];

    // WHEN / THEN nothing to report
    expect(SafetyCheck.check(manifests)).toEqual([]);
  });

  test('networking.istio.io/v1beta1 and v1alpha3 objects are checked like v1', () => {
    // GIVEN the WEIGHTS violation with older Istio API versions
    const current = violating(SafetyRule.WEIGHTS).current.map((m) =>
      (m.kind === 'VirtualService' ? { ...m, apiVersion: 'networking.istio.io/v1alpha3' } : m.kind === 'DestinationRule' ? { ...m, apiVersion: 'networking.istio.io/v1beta1' } : m));

    // WHEN / THEN
    expect(rulesOf(SafetyCheck.check(current))).toEqual([SafetyRule.WEIGHTS]);
  });
});
