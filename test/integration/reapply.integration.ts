/**
 * What we emit is what the API server stores (issue 19 item 11): every stage of the bundled example (as `mesh-release
 * plan` writes it) and of every case of `_cases.ts` is applied with `kubectl apply` (as the runbook does), in order,
 * then applied again: every object must print `unchanged` and none be written (a field the server normalizes, `cpu:
 * 1000m` stored as `1`, or drops, `externalIPs: []`, makes kubectl patch it again, and every tool that diffs the
 * manifests against the live objects see a change that is none), and every field we emit must read back from the
 * server with the value we emitted. The one exception kubectl makes whatever the YAML: PodDisruptionBudgets (below).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import * as YAML from 'yaml';
import { Case, CASES, INGRESS_GATEWAY } from './_cases';
import { ControlPlane, describeWithControlPlane } from './_control-plane';
import { synthesizeStage } from './_stages';
import {
  DisruptionBudget, HeaderMatchType, LoadBalancerAlgorithm, MeshRelease, MeshReleaseProps, ProbeKind, ReleasePlan, Scaling, TlsMode, TrafficRouter,
} from '../../src';
import { cliBuiltInProcess, EXAMPLE, ROOT, tmpDir } from '../cli/_cli';

/** The paths of `emitted` (below `at`) whose value `live` does not hold as emitted: every field we emit must read back equal. */
function fieldsNotStored(emitted: any, live: any, at = ''): string[] {
  if (Array.isArray(emitted)) {
    if (!Array.isArray(live) || live.length !== emitted.length) {
      return [`${at}: emitted ${JSON.stringify(emitted)}, stored ${JSON.stringify(live)}`];
    }
    return emitted.flatMap((e, i) => fieldsNotStored(e, live[i], `${at}[${i}]`));
  }
  if (emitted !== null && typeof emitted === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) {
      return [`${at}: emitted ${JSON.stringify(emitted)}, stored ${JSON.stringify(live)}`];
    }
    return Object.entries(emitted).flatMap(([key, value]) => fieldsNotStored(value, live[key], `${at}.${key}`));
  }
  return emitted === live ? [] : [`${at}: emitted ${JSON.stringify(emitted)}, stored ${JSON.stringify(live)}`];
}

/** The objects of a stage directory written by `mesh-release plan`. */
function objectsIn(dir: string): any[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => YAML.parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJSON())).filter((o) => o);
}

/**
 * The cases whose stages hold every form of object a router emits: a canary (make-routable to retire; blue/green and
 * the longer canaries only repeat its objects with other weights) and three versions with header routes and a mirror.
 */
const FORMS = [
  ...CASES.filter((c) => /-(canary-1|three)$/.test(c.name) || c.name === 'selector-bluegreen'),
  optionsCase('options-istio', {
    router: TrafficRouter.istio({
      trafficPolicy: {
        tlsMode: TlsMode.ISTIO_MUTUAL, loadBalancer: LoadBalancerAlgorithm.LEAST_REQUEST, outlierDetection: { interval: Duration.seconds(10) },
      },
    }),
    strictMtls: true,
    allowedCallers: { namespaces: ['shop'] },
    retries: { attempts: 3, perTryTimeout: Duration.millis(1500), retryOn: '5xx' },
  }),
  optionsCase('options-gateway', {
    router: TrafficRouter.gatewayApi({ gateways: [{ name: INGRESS_GATEWAY, sectionName: 'http' }], hostnames: ['options.example.com'] }),
    appProtocol: 'http',
  }),
];

/**
 * A canary with three versions live, header routes of every match type and a mirror, and workload options at their
 * edges: quantities in units, millicores, GiB and TiB, zero delays, an empty env value, fixed replicas, a percentage
 * budget, HTTP probes, security contexts.
 */
function optionsCase(name: string, props: Partial<MeshReleaseProps>): Case {
  const split = [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }];
  const plan = ReleasePlan.custom([
    { name: 'split', deployed: ['v1', 'v2'], weights: split },
    { name: 'make-routable-v3', deployed: ['v1', 'v2'], routable: ['v1', 'v2', 'v3'], weights: split },
    { name: 'deploy-v3', deployed: ['v1', 'v2', 'v3'], weights: split },
    {
      name: 'pin-v3',
      deployed: ['v1', 'v2', 'v3'],
      weights: split,
      mirror: { version: 'v3', percent: 12.5 },
      headerRoutes: [
        { header: 'x-version', value: 'v3', version: 'v3' },
        { header: 'x-group', value: 'beta', matchType: HeaderMatchType.PREFIX, version: 'v2' },
        { header: 'user-agent', value: '.*Android.*', matchType: HeaderMatchType.REGEX, version: 'v2' },
      ],
    },
  ]);
  const versions = [
    { version: 'v1', image: 'example/web:1' },
    { version: 'v2', image: 'example/web:2', scaling: Scaling.fixed(3), disruptionBudget: DisruptionBudget.minAvailable(kplus.PercentOrAbsolute.percent(50)) },
    {
      version: 'v3',
      image: 'example/web:3',
      resources: {
        cpu: { request: kplus.Cpu.units(0.5), limit: kplus.Cpu.units(2) },
        memory: { request: Size.gibibytes(1), limit: Size.mebibytes(1536) },
        ephemeralStorage: { request: Size.gibibytes(1), limit: Size.tebibytes(1) },
      },
      probes: { kind: ProbeKind.HTTP_GET, initialDelay: Duration.seconds(0) },
      minReady: Duration.seconds(0),
      env: { EMPTY: kplus.EnvValue.fromValue(''), SET: kplus.EnvValue.fromValue('x') },
    },
  ];
  return {
    name,
    plan,
    build: (chart, stage) => {
      new MeshRelease(chart, 'web', { app: 'web', port: 8080, versions, stage: plan.stage(stage), timeout: Duration.seconds(10), ...props });
    },
    prerequisites: [{
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: INGRESS_GATEWAY, namespace: name },
      spec: { gatewayClassName: 'simulated', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', hostname: '*.example.com' }] },
    }],
  };
}

/** What `kubectl apply` prints `configured` at every apply, whatever the YAML: a PodDisruptionBudget (its selector). */
const PATCHED_ALWAYS = ['poddisruptionbudget.policy/'];

describeWithControlPlane('every stage applied twice: the second apply changes nothing', () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    cp = await ControlPlane.start();
    await cp.createNamespaces('shop', 'bookinfo', ...FORMS.map((c) => c.name));
  }, 120_000);
  afterAll(async () => {
    await cp?.stop();
  }, 60_000);

  /**
   * Applies the stage in `dir` (its objects `objects`) twice. Resolves to what the second apply did not leave
   * `unchanged` (but for the PodDisruptionBudgets: see PATCHED_ALWAYS), the objects it wrote (a new resourceVersion),
   * and every emitted field the server stores otherwise.
   */
  async function applyTwice(dir: string, objects: any[]): Promise<{ changedBySecondApply: string[]; written: string[]; notStored: string[] }> {
    await cp.kubectl(['apply', '-f', dir]);
    const live = async () => Promise.all(objects.map((o) => cp.kube.get(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name)));
    const before = await live();
    const second = await cp.kubectl(['apply', '-f', dir]);
    const after = await live();
    const changedBySecondApply = second.split('\n')
      .filter((line) => line !== '' && !line.endsWith(' unchanged') && !PATCHED_ALWAYS.some((prefix) => line.startsWith(prefix)));
    const nameOf = (o: any) => `${o.metadata.namespace}/${o.kind}/${o.metadata.name}`;
    const written = objects.filter((_, i) => after[i].metadata.resourceVersion !== before[i].metadata.resourceVersion).map(nameOf);
    const notStored = objects.flatMap((o, i) => fieldsNotStored(o, after[i], nameOf(o)));
    return { changedBySecondApply, written, notStored };
  }

  const NOTHING = { changedBySecondApply: [], written: [], notStored: [] };

  test('kubectl patches the selector of a PodDisruptionBudget at every apply (its patch strategy is replace): the one exception', async () => {
    // k8s.io/api policy/v1 PodDisruptionBudgetSpec.Selector is `+patchStrategy=replace`: kubectl's three-way strategic
    // merge patch (apimachinery strategicpatch, handleMapDiff) always sends a field of that strategy, so client-side
    // apply prints `configured` for every PodDisruptionBudget, whatever its YAML (the server writes nothing).
    const openapi = JSON.parse(await cp.kubectl(['get', '--raw', '/openapi/v2']));
    expect(openapi.definitions['io.k8s.api.policy.v1.PodDisruptionBudgetSpec'].properties.selector['x-kubernetes-patch-strategy']).toBe('replace');
  }, 60_000);

  test('the check can fail: a Service with externalIPs: [] and a Deployment with cpu: 1000m are patched again', async () => {
    const dir = tmpDir();
    const objects = [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'probe', namespace: 'shop' }, spec: { externalIPs: [], ports: [{ port: 80 }] } },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'probe', namespace: 'shop' },
        spec: {
          selector: { matchLabels: { app: 'probe' } },
          template: {
            metadata: { labels: { app: 'probe' } },
            spec: { containers: [{ name: 'probe', image: 'example/probe:1', resources: { requests: { cpu: '1000m', memory: '1024Mi' } } }] },
          },
        },
      },
    ];
    fs.writeFileSync(path.join(dir, 'probe.yaml'), objects.map((o) => YAML.stringify(o)).join('---\n'));
    const result = await applyTwice(dir, objects);
    expect(result.changedBySecondApply).toEqual(['service/probe configured', 'deployment.apps/probe configured']);
    expect(result.written).toEqual([]); // the server writes nothing, but kubectl (and every diff) sees a change
    expect(result.notStored).toEqual([
      'shop/Service/probe.spec.externalIPs: emitted [], stored undefined',
      'shop/Deployment/probe.spec.template.spec.containers[0].resources.requests.cpu: emitted "1000m", stored "1"',
      'shop/Deployment/probe.spec.template.spec.containers[0].resources.requests.memory: emitted "1024Mi", stored "1Gi"',
    ]);
  }, 60_000);

  test('every stage of the bundled example', async () => {
    const out = tmpDir();
    const plan = await cliBuiltInProcess(['plan', '--app', path.join(ROOT, EXAMPLE), '--out', out, '--force']);
    expect(plan.status).toBe(0);
    const stageDirs = fs.readdirSync(out).filter((d) => /^\d+-/.test(d)).sort();
    expect(stageDirs.length).toBeGreaterThan(5);
    for (const stage of stageDirs) {
      const dir = path.join(out, stage);
      expect({ stage, ...await applyTwice(dir, objectsIn(dir)) }).toEqual({ stage, ...NOTHING });
      // kubectl diff (a server-side dry run of the apply, compared with the live objects) finds nothing either.
      expect(await cp.kubectl(['diff', '-f', dir]).then(() => 'no difference', (e: Error) => e.message)).toBe('no difference');
    }
  }, 300_000);

  // Every case lives in a namespace of its own: the n-th stage of every case is applied at once (one kubectl apply of
  // all of them, in order of n), which takes each case through its stages in order with a kubectl run per n.
  test('every stage of each router\'s canary and three versions with header routes and a mirror (the selector switch: blue/green), and releases of options at their edges', async () => {
    await cp.kubectl(['apply', '-f', '-'], FORMS.flatMap((c) => c.prerequisites).map((o) => YAML.stringify(o)).join('---\n'));
    const rounds = Math.max(...FORMS.map((c) => c.plan.stageNames.length));
    for (let n = 0; n < rounds; n++) {
      const stages = FORMS.filter((c) => n < c.plan.stageNames.length).map((c) => ({ c, stage: c.plan.stageNames[n] }));
      const objects = stages.flatMap(({ c, stage }) => synthesizeStage(c, stage));
      const dir = tmpDir();
      fs.writeFileSync(path.join(dir, 'stages.yaml'), objects.map((o) => YAML.stringify(o)).join('---\n'));
      const round = stages.map(({ c, stage }) => `${c.name}:${stage}`).join(' ');
      expect({ round, ...await applyTwice(dir, objects) }).toEqual({ round, ...NOTHING });
    }
  }, 600_000);
});
