/**
 * The releases the integration suite takes through the API server: per router (Istio, GAMMA, an ingress Gateway,
 * Istio ambient, the selector switch), canaries of 1, 3 and 9 steps, blue/green, and three live versions with
 * header routes and a mirror. Each case lives in a namespace of its own (its name), so runbooks of different cases
 * can run at the same time on one control plane. `app/main.ts` synthesizes a case as a cdk8s app.
 */
import { Chart, Duration } from 'cdk8s';
import { HeaderMatchType, MeshRelease, MeshReleaseProps, ReleasePlan, RolloutOptions, Scaling, TrafficRouter, VersionSpec } from '../../src';

export interface Case {
  /** Also the namespace and the chart's name. */
  readonly name: string;
  readonly plan: ReleasePlan;
  /** Adds the release at `stage` to `chart` (a chart of the case's namespace), its plan with `rollout` when given. */
  readonly build: (chart: Chart, stage: string, rollout?: RolloutOptions) => void;
  /** Objects the cluster must have before the first stage (e.g. the ingress Gateway). */
  readonly prerequisites: any[];
}

/** The Gateway the ingress cases attach to (in the case's namespace). */
export const INGRESS_GATEWAY = 'public';

type RouterKind = 'istio' | 'gamma' | 'ingress' | 'ambient' | 'selector';

const ROUTERS: { [kind in RouterKind]: () => Pick<MeshReleaseProps, 'router' | 'defaults' | 'retries' | 'timeout'> } = {
  istio: () => ({ retries: { attempts: 2, perTryTimeout: Duration.seconds(2) }, timeout: Duration.seconds(10) }),
  gamma: () => ({ router: TrafficRouter.gatewayApi(), timeout: Duration.seconds(10) }),
  ingress: () => ({
    router: TrafficRouter.gatewayApi({ gateways: [{ name: INGRESS_GATEWAY }], hostnames: ['shop.example.com'] }),
    timeout: Duration.seconds(10),
  }),
  ambient: () => ({ router: TrafficRouter.gatewayApi({ ambientWaypoint: 'waypoint' }) }),
  selector: () => ({ router: TrafficRouter.serviceSelector(), defaults: { proxyLifecycle: false } }),
};

const TWO = [
  { version: 'v1', image: 'example/web:1.0.0' },
  { version: 'v2', image: 'example/web:2.0.0' },
];
const THREE = [...TWO, { version: 'v3', image: 'example/web:3.0.0-rc.1' }];

const split = [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }];
/** Three live versions: v1/v2 split, v3 deployed, mirrored, then pinned by header (exact and regular expression). */
function threeVersionPlan(rollout: RolloutOptions = {}): ReleasePlan {
  return ReleasePlan.custom([
    { name: 'split', deployed: ['v1', 'v2'], weights: split },
    { name: 'make-routable-v3', deployed: ['v1', 'v2'], routable: ['v1', 'v2', 'v3'], weights: split },
    { name: 'deploy-v3', deployed: ['v1', 'v2', 'v3'], weights: split },
    { name: 'mirror-v3', deployed: ['v1', 'v2', 'v3'], weights: split, mirror: { version: 'v3', percent: 10 } },
    {
      name: 'pin-v3',
      deployed: ['v1', 'v2', 'v3'],
      weights: split,
      mirror: { version: 'v3', percent: 10 },
      headerRoutes: [
        { header: 'x-version', value: 'v3', version: 'v3' },
        { header: 'user-agent', value: '.*Android.*', matchType: HeaderMatchType.REGEX, version: 'v2' },
      ],
    },
  ], rollout);
}

/**
 * A stable with fixed replicas scaled down mid-plan (issue 20): v1 6 pods at 100%, then 1 pod at 10% at `shift-90`;
 * rolling `shift-90` back gives v1 100% again, which its one pod cannot carry until the 5 others run.
 */
function scaleDownPlan(rollout: RolloutOptions = {}): ReleasePlan {
  const all = [{ version: 'v1', weight: 100 }];
  return ReleasePlan.custom([
    { name: 'stable', deployed: ['v1'], weights: all },
    { name: 'make-routable', deployed: ['v1'], routable: ['v1', 'v2'], weights: all },
    { name: 'deploy', deployed: ['v1', 'v2'], weights: all },
    { name: 'shift-90', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 10 }, { version: 'v2', weight: 90 }] },
  ], rollout);
}
const scaledDown = (stage: string): VersionSpec[] => [
  { ...TWO[0], scaling: Scaling.fixed(stage === 'shift-90' ? 1 : 6) },
  { ...TWO[1], scaling: Scaling.fixed(6) },
];

const SHAPES: { [shape: string]: { plan: (rollout?: RolloutOptions) => ReleasePlan; versions: typeof TWO | ((stage: string) => VersionSpec[]) } } = {
  'canary-1': { plan: (r) => ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [50], ...r }), versions: TWO },
  'canary-3': { plan: (r) => ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 25, 50], ...r }), versions: TWO },
  'canary-9': { plan: (r) => ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 20, 30, 40, 50, 60, 70, 80, 90], ...r }), versions: TWO },
  'bluegreen': { plan: (r) => ReleasePlan.blueGreen({ stable: 'v1', candidate: 'v2', ...r }), versions: TWO },
  'three': { plan: threeVersionPlan, versions: THREE },
  'scaledown': { plan: scaleDownPlan, versions: scaledDown },
};

function makeCase(router: RouterKind, shape: string): Case {
  const name = `${router}-${shape}`;
  const { plan: makePlan, versions } = SHAPES[shape];
  const plan = makePlan();
  return {
    name,
    plan,
    build: (chart, stage, rollout) => {
      const planned = rollout ? makePlan(rollout) : plan;
      new MeshRelease(chart, 'web', {
        app: 'web', port: 8080, versions: typeof versions === 'function' ? versions(stage) : versions, stage: planned.stage(stage), ...ROUTERS[router](),
      });
    },
    prerequisites: router === 'ingress' ? [{
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: INGRESS_GATEWAY, namespace: name },
      spec: { gatewayClassName: 'simulated', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', hostname: 'shop.example.com' }] },
    }] : [],
  };
}

/**
 * Every case: each router with each plan shape it can express (the selector switch: blue/green only); the stable
 * scaled down mid-plan with Istio and the Gateway API (GAMMA).
 */
export const CASES: Case[] = [
  ...(['istio', 'gamma', 'ingress', 'ambient'] as RouterKind[]).flatMap((router) => Object.keys(SHAPES).filter((shape) => shape !== 'scaledown')
    .map((shape) => makeCase(router, shape))),
  makeCase('selector', 'bluegreen'),
  makeCase('istio', 'scaledown'),
  makeCase('gamma', 'scaledown'),
];

export function caseNamed(name: string): Case {
  const found = CASES.find((c) => c.name === name);
  if (!found) {
    throw new Error(`unknown case '${name}'; cases: ${CASES.map((c) => c.name).join(', ')}`);
  }
  return found;
}
