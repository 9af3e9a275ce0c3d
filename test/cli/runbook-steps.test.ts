/**
 * The Step list of the runbook (src/cli/runbook-steps.ts), per router, on plans synthesized with the library:
 * the guard before every transition, and which waits follow an apply — routes for the Gateway API, EndpointSlices
 * for a selector switch, Istio proxies only when Istio objects change.
 */
import * as path from 'path';
import { planOf, routerPlan, RouterName, ROUTERS } from './_runbook';
import { ReleasePlan, Scaling } from '../../src';
import { readManifests } from '../../src/cli/manifests';
import { releasesIn } from '../../src/cli/release-view';
import { forwardSteps, rollbackSteps, Step, StepContext } from '../../src/cli/runbook-steps';
import { changesBetween } from '../../src/cli/stage-diff';
import { PlanResult, StageResult } from '../../src/cli/stages';
import { ApplyAction, forwardActions, rollbackActions } from '../../src/cli/transition';

const DIR = '/tmp/runbook-steps-test';

function contextOf(plan: PlanResult): StepContext {
  return { dirOf: (s) => `${path.basename(s.dir)}/`, namespace: plan.read.namespace, releases: plan.releases };
}

/** The commands applying each stage (forward) and rolling it back, by stage name. */
function commandsOf(plan: PlanResult): Map<string, { forward: string[]; rollback: string[] }> {
  const ctx = contextOf(plan);
  const commands = (steps: Step[]) => steps.map((s) => s.command);
  return new Map(plan.stages.map((stage, i) => [stage.name, {
    forward: commands(forwardSteps(stage, plan.stages[i - 1], ctx)),
    rollback: i > 0 ? commands(rollbackSteps(stage, plan.stages[i - 1], ctx)) : [],
  }]));
}

/** The stages (`<stage>` forward, `<stage> back` rolled back) whose commands include one starting with `prefix`. */
function transitionsWith(plan: PlanResult, prefix: string): string[] {
  return [...commandsOf(plan)].flatMap(([name, { forward, rollback }]) => [
    ...(forward.some((c) => c.startsWith(prefix)) ? [name] : []),
    ...(rollback.some((c) => c.startsWith(prefix)) ? [`${name} back`] : []),
  ]);
}

const ROUTING_OBJECT: { [router in RouterName]: string } = {
  'istio': 'virtualservice.networking.istio.io/web',
  'gateway-api': 'httproute.gateway.networking.k8s.io/web',
  'gamma': 'httproute.gateway.networking.k8s.io/web',
  'service-selector': 'service/web',
};

describe.each(Object.keys(ROUTERS) as RouterName[])('the guard, %s', (router) => {
  const plan = routerPlan(router, DIR);
  const names = plan.stages.map((s) => s.name);
  const commands = commandsOf(plan);

  /** The commands after the floor checks that may come first (tested below). */
  const unchecked = (c: string[]) => c.slice(c.findIndex((x) => !x.startsWith('mr_wait_replicas ')));

  test('every stage starts by reading the live stage of the routing object: the stage before (none for the first) or itself', () => {
    names.forEach((name, i) => {
      const before = i === 0 ? '-' : names[i - 1];
      expect(unchecked(commands.get(name)!.forward)[0]).toBe(`mr_expect_stage shop ${ROUTING_OBJECT[router]} ${name} ${before} ${name}`);
      expect(unchecked(commands.get(name)!.forward)[1]).toBe(`kubectl apply -f ${String(i + 1).padStart(2, '0')}-${name}/`);
    });
  });

  test('every roll back from X expects X live (or X-1: already rolled back) before it applies X-1', () => {
    names.slice(1).forEach((name, i) => {
      expect(unchecked(commands.get(name)!.rollback).slice(0, 2)).toEqual([
        `mr_expect_stage shop ${ROUTING_OBJECT[router]} ${names[i]} ${name} ${names[i]}`,
        `kubectl apply -f ${String(i + 1).padStart(2, '0')}-${names[i]}/`,
      ]);
    });
  });

  test('a transition that gives a version more traffic first waits for its floor of ready pods (forward and back), before the guard', () => {
    const first = (c: string[]) => c.slice(0, c.findIndex((x) => !x.startsWith('mr_wait_replicas ')));
    const checks = [...commands].flatMap(([name, { forward, rollback }]) => [
      ...first(forward).map((c) => `${name}: ${c}`),
      ...first(rollback).map((c) => `${name} back: ${c}`),
    ]);
    const shifts = router === 'service-selector' ? ['shift-100'] : ['shift-10', 'shift-50', 'shift-100'];
    // Forward, the candidate gets more traffic; back, the stable version gets it back. Nothing else checks first.
    expect(checks).toEqual(shifts.flatMap((s) => [`${s}: mr_wait_replicas web-v2 shop 2 180`, `${s} back: mr_wait_replicas web-v1 shop 2 180`]));
  });
});

describe('waits per router', () => {
  test('Istio: mr_wait_proxies after every transition that creates, changes or deletes Istio objects; no route or endpoint waits', () => {
    const plan = routerPlan('istio', DIR);
    const istioChanges = plan.stages.flatMap((s) => [
      ...([...s.changes.created, ...s.changes.changed, ...s.changes.deleted].some((m) => m.apiVersion.includes('istio.io')) ? [s.name] : []),
      ...([...s.rollback.created, ...s.rollback.changed, ...s.rollback.deleted].some((m) => m.apiVersion.includes('istio.io')) ? [`${s.name} back`] : []),
    ]);
    expect(istioChanges).toEqual(['stable', 'make-routable', 'make-routable back', 'shift-10', 'shift-10 back', 'shift-50', 'shift-50 back',
      'shift-100', 'shift-100 back', 'unroute', 'unroute back', 'drop-routable', 'drop-routable back']);
    expect(transitionsWith(plan, 'mr_wait_proxies ')).toEqual(istioChanges);
    expect(commandsOf(plan).get('shift-10')!.forward.slice(2)).toEqual([
      'kubectl apply -f 04-shift-10/',
      'mr_wait_proxies 120 shop virtualservice.networking.istio.io/web',
    ]);
    expect(transitionsWith(plan, 'mr_wait_routes')).toEqual([]);
    expect(transitionsWith(plan, 'mr_wait_endpoints')).toEqual([]);
  });

  test.each(['gateway-api', 'gamma'] as RouterName[])('Gateway API (%s): mr_wait_routes after every apply that creates or changes the HTTPRoute; no Istio wait', (router) => {
    const plan = routerPlan(router, DIR);
    const routeChanges = plan.stages.flatMap((s) => [
      ...([...s.changes.created, ...s.changes.changed].some((m) => m.kind === 'HTTPRoute') ? [s.name] : []),
      ...([...s.rollback.created, ...s.rollback.changed].some((m) => m.kind === 'HTTPRoute') ? [`${s.name} back`] : []),
    ]);
    expect(routeChanges).toEqual(['stable', 'shift-10', 'shift-10 back', 'shift-50', 'shift-50 back', 'shift-100', 'shift-100 back', 'unroute', 'unroute back']);
    expect(transitionsWith(plan, 'mr_wait_routes 120 shop web')).toEqual(routeChanges);
    expect(transitionsWith(plan, 'mr_wait_proxies')).toEqual([]);
    expect(transitionsWith(plan, 'mr_wait_endpoints')).toEqual([]);
    // The route is waited for once its backends' pods are ready.
    const stable = commandsOf(plan).get('stable')!.forward;
    expect(stable.slice(1)).toEqual([
      'kubectl apply -f 01-stable/',
      'kubectl rollout status deployment/web-v1 -n shop --timeout=180s',
      'mr_wait_replicas web-v1 shop 2 180',
      'mr_wait_routes 120 shop web',
    ]);
    // drop-routable deletes the per-version Service of v1: no wait for a deleted object.
    expect(commandsOf(plan).get('drop-routable')!.forward.slice(1)).toEqual([
      'kubectl apply -f 08-drop-routable/',
      'kubectl delete service/web-v1 -n shop --ignore-not-found --wait=true --timeout=90s',
    ]);
  });

  test('selector switch: mr_wait_endpoints after the apply that creates the Service or switches its selector; no Istio or route wait', () => {
    const plan = routerPlan('service-selector', DIR);
    expect(transitionsWith(plan, 'mr_wait_endpoints 120 shop web')).toEqual(['stable', 'shift-100', 'shift-100 back']);
    expect(commandsOf(plan).get('shift-100')!.forward).toEqual(['mr_wait_replicas web-v2 shop 2 180', 'mr_expect_stage shop service/web shift-100 deploy shift-100',
      'kubectl apply -f 04-shift-100/', 'mr_wait_endpoints 120 shop web']);
    expect(transitionsWith(plan, 'mr_wait_proxies')).toEqual([]);
    expect(transitionsWith(plan, 'mr_wait_routes')).toEqual([]);
  });

  test('two releases in one plan: one guard per release, each router its own waits', () => {
    const plan = planOf(DIR, ReleasePlan.blueGreen({ stable: 'v1', candidate: 'v2' }), [{ app: 'web', router: 'istio' }, { app: 'api', router: 'service-selector' }]);
    const shift = commandsOf(plan).get('shift-100')!.forward;
    expect(shift).toEqual([
      'mr_wait_replicas web-v2 shop 2 180',
      'mr_wait_replicas api-v2 shop 2 180',
      'mr_expect_stage shop virtualservice.networking.istio.io/web shift-100 deploy shift-100',
      'mr_expect_stage shop service/api shift-100 deploy shift-100',
      'kubectl apply -f 04-shift-100/',
      'mr_wait_endpoints 120 shop api',
      'mr_wait_proxies 120 shop virtualservice.networking.istio.io/web',
    ]);
  });

  test('objects without a namespace and no --namespace: the helpers get \'-\' (kubectl\'s current namespace)', () => {
    const stripped = withoutNamespaces(routerPlan('service-selector', DIR));
    expect(commandsOf(stripped).get('stable')!.forward).toEqual([
      'mr_expect_stage - service/web stable - stable',
      'kubectl apply -f 01-stable/',
      'kubectl rollout status deployment/web-v1 --timeout=180s',
      'mr_wait_replicas web-v1 - 2 180',
      'mr_wait_endpoints 120 - web',
    ]);
    // The Reconciled wait of Istio objects too (it said `default`, where the apply had not put them).
    expect(commandsOf(withoutNamespaces(routerPlan('istio', DIR))).get('shift-10')!.forward.slice(-1))
      .toEqual(['mr_wait_proxies 120 - virtualservice.networking.istio.io/web']);
  });

  test('objects without a namespace and --namespace: applied with -n, like every guard, wait and delete', () => {
    const plan = withoutNamespaces(routerPlan('gamma', DIR), 'shop');
    const commands = commandsOf(plan);
    expect(commands.get('shift-10')!.forward).toEqual([
      'mr_wait_replicas web-v2 shop 2 180',
      'mr_expect_stage shop httproute.gateway.networking.k8s.io/web shift-10 deploy shift-10',
      'kubectl apply -f 04-shift-10/ -n shop',
      'mr_wait_routes 120 shop web',
    ]);
    expect(commands.get('retire')!.forward.filter((c) => c.startsWith('kubectl'))).toEqual([
      'kubectl apply -f 09-retire/ -n shop',
      'kubectl delete horizontalpodautoscaler/web-v1 -n shop --ignore-not-found --wait=true --timeout=90s',
      'kubectl delete poddisruptionbudget/web-v1 -n shop --ignore-not-found --wait=true --timeout=90s',
      'kubectl delete deployment/web-v1 -n shop --ignore-not-found --wait=true --timeout=90s',
      'kubectl wait --for=delete pod -n shop -l app=web,version=v1 --timeout=120s',
    ]);
    // Objects that all carry their namespace: no -n (kubectl apply -n refuses an object of another namespace).
    expect(commandsOf({ ...routerPlan('gamma', DIR), read: { namespace: 'other' } }).get('shift-10')!.forward).toContain('kubectl apply -f 04-shift-10/');
  });

  test('objects without a namespace, --namespace, and objects of another namespace: no single kubectl apply can do it, refused', () => {
    const plan = withoutNamespaces(routerPlan('gamma', DIR), 'shop');
    const elsewhere = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'infra' } };
    const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } };
    const mixed: PlanResult = { ...plan, stages: plan.stages.map((s) => ({ ...s, manifests: [...s.manifests, elsewhere] })) };
    expect(() => commandsOf(mixed)).toThrow(/cannot write one kubectl apply for 01-stable\/: objects without a namespace \(Service\/web, .*\), which --namespace puts in shop \(kubectl apply -n shop\), and objects of another namespace \(ConfigMap\/settings \(infra\)\)/);
    // A cluster-scoped object without a namespace is no reason for -n.
    const clusterScoped: PlanResult = { ...routerPlan('gamma', DIR), read: { namespace: 'other' } };
    const withNamespace: PlanResult = {
      ...clusterScoped,
      stages: clusterScoped.stages.map((s) => ({ ...s, manifests: [...s.manifests, namespace] })),
    };
    expect(commandsOf(withNamespace).get('stable')!.forward).toContain('kubectl apply -f 01-stable/');
  });
});

/** `plan` with every object's namespace removed, read with `--namespace <namespace>` when given. */
function withoutNamespaces(plan: PlanResult, namespace?: string): PlanResult {
  const strip = (m: any) => ({ ...m, metadata: { ...m.metadata, namespace: undefined } });
  const stages = plan.stages.map((s) => ({ ...s, manifests: s.manifests.map(strip) }))
    .map((s, i, all) => ({
      ...s,
      changes: changesBetween(s.manifests, all[i - 1]?.manifests, namespace),
      rollback: i > 0 ? changesBetween(all[i - 1].manifests, s.manifests, namespace) : s.rollback,
    }));
  return { ...plan, stages, releases: releasesIn(stages[0].manifests, namespace), read: { namespace } };
}

describe('Istio waits only for Istio objects', () => {
  const service = (selector: object) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { selector, ports: [{ port: 80 }] } });
  const httpRoute = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web', namespace: 'shop' }, spec: { parentRefs: [{ name: 'public' }] } };
  const peerAuthentication = { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'web', namespace: 'shop' }, spec: { mtls: { mode: 'STRICT' } } };
  /** The commands of the transition from `before` to `after`, with no release (no guard). */
  function transition(before: any[], after: any[]): string[] {
    const stage = (index: number, manifests: any[], previous?: any[]): StageResult => ({
      index,
      name: `s${index}`,
      dir: `${DIR}/0${index + 1}-s${index}`,
      manifests,
      changes: changesBetween(manifests, previous),
      rollback: changesBetween(previous ?? [], manifests),
      violations: [],
      rollbackViolations: [],
    });
    return forwardSteps(stage(1, after, before), stage(0, before), { dirOf: (s) => `${path.basename(s.dir)}/`, releases: [] }).map((s) => s.command);
  }

  test('a plain Service changed (no release annotation, no version selected): the apply alone', () => {
    expect(transition([service({ app: 'web' })], [service({ app: 'web', tier: 'front' })])).toEqual(['kubectl apply -f 02-s1/']);
  });

  test('an HTTPRoute deleted: its delete, no route wait, no proxy wait', () => {
    expect(transition([httpRoute], [])).toEqual(['kubectl apply -f 02-s1/', 'kubectl delete httproute.gateway.networking.k8s.io/web -n shop --ignore-not-found --wait=true --timeout=90s']);
  });

  test('a security.istio.io object deleted: mr_wait_proxies after the delete', () => {
    expect(transition([peerAuthentication], [])).toEqual([
      'kubectl apply -f 02-s1/',
      'kubectl delete peerauthentication.security.istio.io/web -n shop --ignore-not-found --wait=true --timeout=90s',
      'mr_wait_proxies 120',
    ]);
    expect(transition([], [peerAuthentication])).toEqual(['kubectl apply -f 02-s1/', 'mr_wait_proxies 120']);
  });
});

describe('floors are the safety check\'s', () => {
  // Found reading issue 18: the runbook had its own HPA-floor logic, which took the last of two autoscalers on one
  // Deployment as its floor, while the HPA controller scales with neither (AmbiguousSelector) and the safety check
  // counts the Deployment's replicas.
  test('two HorizontalPodAutoscalers on one Deployment: the wait is for its replicas, not an autoscaler\'s minimum', () => {
    const plan = routerPlan('istio', DIR);
    const [first, second] = plan.stages;
    const hpa = (name: string, minReplicas: number) => ({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name, namespace: 'shop' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-v1' }, minReplicas, maxReplicas: 10 },
    });
    const withReplicas = (manifests: any[], replicas: number) => manifests
      .filter((m) => !(m.kind === 'HorizontalPodAutoscaler' && m.spec?.scaleTargetRef?.name === 'web-v1'))
      .map((m) => (m.kind === 'Deployment' && m.metadata?.name === 'web-v1' ? { ...m, spec: { ...m.spec, replicas } } : m));
    const from: StageResult = { ...first, manifests: withReplicas(first.manifests, 1) };
    const target: StageResult = { ...second, manifests: [...withReplicas(second.manifests, 3), hpa('web-v1-a', 5), hpa('web-v1-b', 6)] };
    const waits = forwardSteps(target, from, contextOf(plan)).map((s) => s.command).filter((c) => c.startsWith('mr_wait_replicas web-v1 '));
    expect(waits).toEqual(['mr_wait_replicas web-v1 shop 3 180']);
  });
});

describe('a version whose floor rises as it gets more traffic is scaled first', () => {
  // Issue 20: a custom plan whose stable has fixed replicas and is scaled down mid-plan (v1: 10 pods at 100%, then 2 at
  // 10%) rolled back by applying the stage before whole: the route sent 100% to v1 while it still had 2 pods.
  const stages = ReleasePlan.custom([
    { name: 'stable', deployed: ['v1'], weights: [{ version: 'v1', weight: 100 }] },
    { name: 'make-routable', deployed: ['v1'], routable: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] },
    { name: 'deploy', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] },
    { name: 'shift-90', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 10 }, { version: 'v2', weight: 90 }] },
  ]);
  const versionsOf = (stage: string) => [
    { version: 'v1', image: 'example/web:1', scaling: Scaling.fixed(stage === 'shift-90' ? 2 : 10) },
    { version: 'v2', image: 'example/web:2', scaling: Scaling.fixed(10) },
  ];

  test.each(Object.keys(ROUTERS).filter((r) => r !== 'service-selector') as RouterName[])('%s: the roll back applies v1\'s Deployment, waits for its 10 pods, then routes', (router) => {
    const plan = planOf(DIR, stages, [{ app: 'web', router }], versionsOf);
    const rollback = commandsOf(plan).get('shift-90')!.rollback;
    expect(rollback.slice(0, 4)).toEqual([
      `mr_expect_stage shop ${ROUTING_OBJECT[router]} deploy shift-90 deploy`,
      'kubectl apply -f 03-deploy/ -l app=web,version=v1',
      'mr_wait_replicas web-v1 shop 10 180',
      'kubectl apply -f 03-deploy/',
    ]);
    // Once: no second floor wait after the apply.
    expect(rollback.filter((c) => c.startsWith('mr_wait_replicas web-v1 '))).toEqual(['mr_wait_replicas web-v1 shop 10 180']);
    // Forward, v2's floor does not rise: the capacity check before the guard, as before; v1 loses traffic: nothing first
    // (it is scaled down last: below).
    expect(commandsOf(plan).get('shift-90')!.forward.slice(0, 3)).toEqual([
      'mr_wait_replicas web-v2 shop 10 180',
      `mr_expect_stage shop ${ROUTING_OBJECT[router]} shift-90 deploy shift-90`,
      'kubectl apply -f 04-shift-90/ -l \'version notin (v1)\'',
    ]);
  });

  test('forward too: a candidate deployed on 1 pod and given 50% with 6 is scaled first', () => {
    const plan = planOf(DIR, ReleasePlan.custom([
      { name: 'stable', deployed: ['v1'], weights: [{ version: 'v1', weight: 100 }] },
      { name: 'make-routable', deployed: ['v1'], routable: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] },
      { name: 'deploy', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] },
      { name: 'shift-50', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }] },
    ]), [{ app: 'web', router: 'gamma' }], (stage) => [
      { version: 'v1', image: 'example/web:1', scaling: Scaling.fixed(10) },
      { version: 'v2', image: 'example/web:2', scaling: Scaling.fixed(stage === 'shift-50' ? 6 : 1) },
    ]);
    expect(commandsOf(plan).get('shift-50')!.forward).toEqual([
      'mr_expect_stage shop httproute.gateway.networking.k8s.io/web shift-50 deploy shift-50',
      'kubectl apply -f 04-shift-50/ -l app=web,version=v2',
      'mr_wait_replicas web-v2 shop 6 180',
      'kubectl apply -f 04-shift-50/',
      'mr_wait_routes 120 shop web',
    ]);
  });

  test('autoscaled with scaleWithTraffic: the library keeps v1\'s floor for the roll back, nothing to scale, the capacity check', () => {
    const autoscaled = (stage: string) => [
      { version: 'v1', image: 'example/web:1', scaling: Scaling.autoscale({ minReplicas: stage === 'shift-90' ? 2 : 10, maxReplicas: 20 }) },
      { version: 'v2', image: 'example/web:2', scaling: Scaling.fixed(10) },
    ];
    const plan = planOf(DIR, stages, [{ app: 'web', router: 'istio' }], autoscaled);
    expect(commandsOf(plan).get('shift-90')!.rollback.slice(0, 3)).toEqual([
      'mr_wait_replicas web-v1 shop 10 180',
      'mr_expect_stage shop virtualservice.networking.istio.io/web deploy shift-90 deploy',
      'kubectl apply -f 03-deploy/',
    ]);
  });

  test('the actions: scale (the Deployment, and the autoscaler on it) after the guard, its floor, then the apply', () => {
    const plan = planOf(DIR, stages, [{ app: 'web', router: 'istio' }], versionsOf);
    const hpa = (minReplicas: number) => ({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web-v1', namespace: 'shop', labels: { app: 'web', version: 'v1' } },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-v1' }, minReplicas, maxReplicas: 20 },
    });
    const [deploy, shift] = plan.stages.slice(2).map((s, i) => ({ ...s, manifests: [...s.manifests, hpa(i === 0 ? 10 : 2)] }));
    const actions = rollbackActions(shift, deploy, { namespace: plan.read.namespace, releases: plan.releases });
    expect(actions.slice(0, 4).map((a) => a.kind)).toEqual(['guard', 'scale', 'floor', 'apply']);
    expect(actions[1]).toMatchObject({
      kind: 'scale',
      release: 'web',
      version: 'v1',
      from: 2,
      floor: 10,
      labels: { app: 'web', version: 'v1' },
      objects: [{ kind: 'Deployment', metadata: { name: 'web-v1' } }, { kind: 'HorizontalPodAutoscaler', spec: { minReplicas: 10 } }],
      alsoSelected: [{ kind: 'PodDisruptionBudget', metadata: { name: 'web-v1' } }],
    });
    expect(actions[2]).toMatchObject({ kind: 'floor', deployment: { metadata: { name: 'web-v1' } }, floor: 10 });
  });

  test('the step says why, and names what the labels select', () => {
    const plan = planOf(DIR, stages, [{ app: 'web', router: 'istio' }], versionsOf);
    const [deploy, shift] = plan.stages.slice(2);
    const step = rollbackSteps(shift, deploy, contextOf(plan))[1];
    expect(step).toEqual({
      kind: 'apply',
      command: 'kubectl apply -f 03-deploy/ -l app=web,version=v1',
      why: 'before web v1 gets more traffic: scale it first, from a floor of 2 to 10 pods (Deployment/web-v1, PodDisruptionBudget/web-v1: '
        + 'the objects labelled app=web,version=v1, nothing that routes)',
    });
  });

  test('objects without a namespace and --namespace: the scale-up is applied with -n too', () => {
    const plan = withoutNamespaces(planOf(DIR, stages, [{ app: 'web', router: 'gamma' }], versionsOf), 'shop');
    expect(commandsOf(plan).get('shift-90')!.rollback[1]).toBe('kubectl apply -f 03-deploy/ -l app=web,version=v1 -n shop');
  });

  test('fails when the labels of the version also select a routing object (hand-written YAML): no exact command', () => {
    const plan = planOf(DIR, stages, [{ app: 'web', router: 'istio' }], versionsOf);
    const labelled = (m: any) => (m.kind === 'VirtualService' ? { ...m, metadata: { ...m.metadata, labels: { ...m.metadata.labels, version: 'v1' } } } : m);
    const [deploy, shift] = plan.stages.slice(2).map((s) => ({ ...s, manifests: s.manifests.map(labelled) }));
    expect(() => rollbackSteps(shift, deploy, contextOf(plan))).toThrow('cannot write the scale-up of web v1 in 03-deploy/ (its floor rises from 2 to 10 '
      + 'pods as it gets more traffic, so Deployment/web-v1 must be applied before the rest of the stage): the labels app=web,version=v1 must select '
      + 'exactly these objects of the stage, besides PodDisruptionBudgets and objects the step does not change; give them those labels '
      + '(MeshRelease and VersionedApp do), and no routing object');
  });
});

describe('a version whose share and fixed replicas fall in the same step is scaled down after the routing is live', () => {
  // Issue 20, the mirror: v1 from 10 pods at 100% to 2 at 10% in one step. Applied whole, the stage stopped 8 of v1's
  // pods while the proxies (gateways, kube-proxy) still sent it 100% until the new routing was live.
  const stages = ReleasePlan.custom([
    { name: 'stable', deployed: ['v1'], weights: [{ version: 'v1', weight: 100 }] },
    { name: 'make-routable', deployed: ['v1'], routable: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] },
    { name: 'deploy', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] },
    { name: 'shift-90', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 10 }, { version: 'v2', weight: 90 }] },
  ]);
  const versionsOf = (stage: string) => [
    { version: 'v1', image: 'example/web:1', scaling: Scaling.fixed(stage === 'shift-90' ? 2 : 10) },
    { version: 'v2', image: 'example/web:2', scaling: Scaling.fixed(10) },
  ];
  const LIVE: { [router in RouterName]?: string } = {
    'istio': 'mr_wait_proxies 120 shop virtualservice.networking.istio.io/web',
    'gateway-api': 'mr_wait_routes 120 shop web',
    'gamma': 'mr_wait_routes 120 shop web',
  };

  test.each(Object.keys(LIVE) as RouterName[])('%s: the apply leaves v1\'s objects out, routing is waited for, then v1 is scaled down', (router) => {
    const plan = planOf(DIR, stages, [{ app: 'web', router }], versionsOf);
    expect(commandsOf(plan).get('shift-90')!.forward).toEqual([
      'mr_wait_replicas web-v2 shop 10 180',
      `mr_expect_stage shop ${ROUTING_OBJECT[router]} shift-90 deploy shift-90`,
      'kubectl apply -f 04-shift-90/ -l \'version notin (v1)\'',
      LIVE[router],
      'kubectl apply -f 04-shift-90/ -l app=web,version=v1',
    ]);
  });

  test('the actions: the apply without v1\'s Deployment, the routing waits, then the scale-down (before any delete)', () => {
    const plan = planOf(DIR, stages, [{ app: 'web', router: 'istio' }], versionsOf);
    const [deploy, shift] = plan.stages.slice(2);
    const actions = forwardActions(shift, deploy, { namespace: plan.read.namespace, releases: plan.releases });
    expect(actions.map((a) => a.kind)).toEqual(['capacity', 'guard', 'apply', 'live', 'scale-down']);
    const apply = actions[2] as ApplyAction;
    expect(apply.objects.map((o) => `${o.kind}/${o.metadata.name}`)).not.toContain('Deployment/web-v1');
    expect(apply.objects).toHaveLength(shift.manifests.length - 1);
    expect(apply.held).toEqual([actions[4]]);
    expect(actions[4]).toMatchObject({
      kind: 'scale-down',
      release: 'web',
      version: 'v1',
      from: 10,
      floor: 2,
      labels: { app: 'web', version: 'v1' },
      objects: [{ kind: 'Deployment', metadata: { name: 'web-v1' }, spec: { replicas: 2 } }],
      alsoSelected: [{ kind: 'PodDisruptionBudget', metadata: { name: 'web-v1' } }],
    });
  });

  test('the step says why', () => {
    const plan = planOf(DIR, stages, [{ app: 'web', router: 'istio' }], versionsOf);
    const steps = forwardSteps(plan.stages[3], plan.stages[2], contextOf(plan));
    expect(steps[2].why).toBe('create and change the objects of the stage, but those of web v1: scaled down after the routing is live (their pods '
      + 'carry their share until then)');
    expect(steps[4]).toEqual({
      kind: 'apply',
      command: 'kubectl apply -f 04-shift-90/ -l app=web,version=v1',
      why: 'now that the routing gives web v1 less traffic: scale it down, from a floor of 10 to 2 pods (Deployment/web-v1, PodDisruptionBudget/web-v1: '
        + 'the objects labelled app=web,version=v1, left out of the apply)',
    });
  });

  test('rolled back: the candidate losing its share and pods is scaled down after the routing too', () => {
    const plan = planOf(DIR, ReleasePlan.custom([
      { name: 'stable', deployed: ['v1'], weights: [{ version: 'v1', weight: 100 }] },
      { name: 'make-routable', deployed: ['v1'], routable: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] },
      { name: 'deploy', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] },
      { name: 'shift-50', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }] },
    ]), [{ app: 'web', router: 'gamma' }], (stage) => [
      { version: 'v1', image: 'example/web:1', scaling: Scaling.fixed(10) },
      { version: 'v2', image: 'example/web:2', scaling: Scaling.fixed(stage === 'shift-50' ? 6 : 1) },
    ]);
    expect(commandsOf(plan).get('shift-50')!.rollback).toEqual([
      'mr_wait_replicas web-v1 shop 10 180',
      'mr_expect_stage shop httproute.gateway.networking.k8s.io/web deploy shift-50 deploy',
      'kubectl apply -f 03-deploy/ -l \'version notin (v2)\'',
      'mr_wait_routes 120 shop web',
      'kubectl apply -f 03-deploy/ -l app=web,version=v2',
    ]);
  });

  test('two releases, only web v1 scaled down: api\'s v1 objects are applied after the rest, then web v1 after the routing', () => {
    const plan = planOf(DIR, stages, [{ app: 'web', router: 'istio' }, { app: 'api', router: 'gamma' }], versionsOf);
    // api's v1 keeps its 10 pods.
    const shift = plan.stages[3];
    const kept = { ...shift, manifests: shift.manifests.map((m) => (m.kind === 'Deployment' && m.metadata.name === 'api-v1' ? { ...m, spec: { ...m.spec, replicas: 10 } } : m)) };
    const steps = forwardSteps(kept, plan.stages[2], contextOf(plan)).map((s) => s.command).filter((c) => c.startsWith('kubectl apply'));
    expect(steps).toEqual([
      'kubectl apply -f 04-shift-90/ -l \'version notin (v1)\'',
      'kubectl apply -f 04-shift-90/ -l \'version=v1,app notin (web)\'',
      'kubectl apply -f 04-shift-90/ -l app=web,version=v1',
    ]);
    // Both scaled down: no other app's v1 objects to apply.
    expect(commandsOf(plan).get('shift-90')!.forward.filter((c) => c.startsWith('kubectl apply'))).toEqual([
      'kubectl apply -f 04-shift-90/ -l \'version notin (v1)\'',
      'kubectl apply -f 04-shift-90/ -l app=web,version=v1',
      'kubectl apply -f 04-shift-90/ -l app=api,version=v1',
    ]);
  });

  test('autoscaled (no replicas in the Deployment): a lower minReplicas is not held back, the HPA scales down only what the load leaves idle', () => {
    const plan = planOf(DIR, stages, [{ app: 'web', router: 'istio' }], (stage) => [
      { version: 'v1', image: 'example/web:1', scaling: Scaling.autoscale({ minReplicas: stage === 'shift-90' ? 2 : 10, maxReplicas: 20 }) },
      { version: 'v2', image: 'example/web:2', scaling: Scaling.fixed(10) },
    ]);
    expect(commandsOf(plan).get('shift-90')!.forward.filter((c) => c.startsWith('kubectl apply'))).toEqual(['kubectl apply -f 04-shift-90/']);
  });

  test('objects without a namespace and --namespace: every apply with -n', () => {
    const plan = withoutNamespaces(planOf(DIR, stages, [{ app: 'web', router: 'gamma' }], versionsOf), 'shop');
    expect(commandsOf(plan).get('shift-90')!.forward.filter((c) => c.startsWith('kubectl apply'))).toEqual([
      'kubectl apply -f 04-shift-90/ -l \'version notin (v1)\' -n shop',
      'kubectl apply -f 04-shift-90/ -l app=web,version=v1 -n shop',
    ]);
  });

  test('fails when the labels of the version also select a routing object (hand-written YAML): no exact command', () => {
    const plan = planOf(DIR, stages, [{ app: 'web', router: 'istio' }], versionsOf);
    const labelled = (m: any) => (m.kind === 'VirtualService' ? { ...m, metadata: { ...m.metadata, labels: { ...m.metadata.labels, version: 'v1' } } } : m);
    const [deploy, shift] = plan.stages.slice(2).map((s) => ({ ...s, manifests: s.manifests.map(labelled) }));
    expect(() => forwardSteps(shift, deploy, contextOf(plan))).toThrow('cannot write the scale-down of web v1 in 04-shift-90/ (its floor falls from 10 '
      + 'to 2 pods as it gets less traffic, so Deployment/web-v1 must be left out of the apply of the stage and applied once the routing is live): '
      + 'the labels app=web,version=v1 must select exactly these objects of the stage, besides PodDisruptionBudgets and objects the step does not '
      + 'change; give them those labels (MeshRelease and VersionedApp do), and no routing object');
  });

  test('fails when another app\'s routing object carries the version label and changes: it would be applied after the rest', () => {
    const plan = planOf(DIR, stages, [{ app: 'web', router: 'istio' }, { app: 'api', router: 'istio' }], versionsOf);
    const labelled = (m: any) => (m.kind === 'VirtualService' && m.metadata.name === 'api'
      ? { ...m, metadata: { ...m.metadata, labels: { ...m.metadata.labels, version: 'v1' } } } : m);
    const [deploy, shift] = plan.stages.slice(2).map((s) => ({ ...s, manifests: s.manifests.map(labelled) }));
    const kept = { ...shift, manifests: shift.manifests.map((m) => (m.kind === 'Deployment' && m.metadata.name === 'api-v1' ? { ...m, spec: { ...m.spec, replicas: 10 } } : m)) };
    expect(() => forwardSteps(kept, deploy, contextOf(plan))).toThrow('cannot write the apply of 04-shift-90/ while web v1 is scaled down after its '
      + 'routing: VirtualService/api (labelled version=v1, of another app) routes and changes in this step, so it would be applied after the rest of '
      + 'the stage (kubectl apply -l \'version notin (v1)\' leaves it out); remove its version label');
  });
});

describe('scaled first, on the Gateway API\'s Bookinfo (istio/istio samples/bookinfo), hand-annotated as a release', () => {
  const UPSTREAM = path.join(__dirname, '..', 'fixtures', 'upstream', 'istio');
  const files = ['platform-kube-bookinfo.yaml', 'platform-kube-bookinfo-versions.yaml'];
  /** The stage `name` of a plan all-v1, 90-10: the upstream objects, reviews-v1 with `replicas`, the route annotated. */
  function stage(index: number, name: string, route: string, replicas: number, previous?: StageResult): StageResult {
    const manifests = [...files, route].flatMap((f) => readManifests(path.join(UPSTREAM, f)).objects).map((o: any) => {
      if (o.kind === 'Deployment' && o.metadata.name === 'reviews-v1') {
        return { ...o, spec: { ...o.spec, replicas } };
      }
      if (o.kind === 'HTTPRoute') {
        return { ...o, metadata: { ...o.metadata, annotations: { 'mesh-release.io/plan-stages': 'all-v1,90-10', 'mesh-release.io/stage': name } } };
      }
      return o;
    });
    return {
      index,
      name,
      dir: `${DIR}/0${index + 1}-${name}`,
      manifests,
      changes: changesBetween(manifests, previous?.manifests, 'default'),
      rollback: previous ? changesBetween(previous.manifests, manifests, 'default') : { created: [], changed: [], deleted: [] },
      violations: [],
      rollbackViolations: [],
    };
  }

  test('rolled back from 90-10 (reviews-v1 scaled from 3 pods to 1) to all-v1: kubectl apply -l app=reviews,version=v1 selects its Deployment alone', () => {
    const allV1 = stage(0, 'all-v1', 'gateway-api-route-reviews-v1.yaml', 3);
    const ninetyTen = stage(1, '90-10', 'gateway-api-route-reviews-90-10.yaml', 1, allV1);
    const releases = releasesIn(allV1.manifests, 'default');
    const ctx: StepContext = { dirOf: (s) => `${path.basename(s.dir)}/`, namespace: 'default', releases };
    expect(rollbackSteps(ninetyTen, allV1, ctx).map((s) => s.command).slice(0, 4)).toEqual([
      'mr_expect_stage default httproute.gateway.networking.k8s.io/reviews all-v1 90-10 all-v1',
      'kubectl apply -f 01-all-v1/ -l app=reviews,version=v1 -n default',
      'mr_wait_replicas reviews-v1 default 3 660',
      'kubectl apply -f 01-all-v1/ -n default',
    ]);
  });
});
