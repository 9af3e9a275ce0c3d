/**
 * A plan's analysis and pauses travel with its synthesized YAML: every router's release object carries the
 * `mesh-release.io/rollout` annotation, and the CLI reads it back from stage directories alone (CI artifacts).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Testing, Yaml } from 'cdk8s';
import { CanaryMetric, MeshRelease, NoDataPolicy, ReleasePlan, TrafficRouter } from '../../src';
import { readManifests } from '../../src/cli/manifests';
import { releasesIn } from '../../src/cli/release-view';
import { rolloutIn, rolloutOfPlan } from '../../src/cli/rollout-view';
import { TWO_VERSIONS } from '../_helpers';

const analysis = {
  interval: Duration.seconds(30),
  count: 4,
  failureLimit: 1,
  noData: NoDataPolicy.INCONCLUSIVE,
  metrics: [
    CanaryMetric.successRate({ min: 99, maxBelowStable: 0.5 }),
    CanaryMetric.latency({ percentile: 95, max: Duration.millis(250), maxAboveStable: Duration.millis(20) }),
    CanaryMetric.prometheus({ name: 'queue-depth', query: 'max(queue_depth{namespace="{{ namespace }}",workload="{{ workload }}"})', max: 100 }),
  ],
};

const metricsJson = [
  { name: 'success-rate', type: 'success-rate', min: 99, maxBelowStable: 0.5 },
  { name: 'latency-p95', type: 'latency', percentile: 95, max: 250, maxAboveStable: 20 },
  { name: 'queue-depth', type: 'prometheus', query: 'max(queue_depth{namespace="{{ namespace }}",workload="{{ workload }}"})', max: 100 },
];

/** Every stage of `plan` synthesized, written as YAML into its own directory and read back as the CLI reads `--stages`. */
function stageDirs(plan: ReleasePlan, router: TrafficRouter): any[][] {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rollout-view-'));
  try {
    return plan.stages.map((stage, i) => {
      const chart = Testing.chart();
      new MeshRelease(chart, 'shop', { app: 'shop', namespace: 'prod', port: 8080, versions: TWO_VERSIONS, stage, router });
      const dir = path.join(root, `${i}-${stage.name}`);
      fs.mkdirSync(dir);
      Yaml.save(path.join(dir, 'app.k8s.yaml'), Testing.synth(chart));
      return readManifests(dir).objects;
    });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

describe('the rollout spec round-trips through the YAML of every router', () => {
  const canary = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50], analysis, pauseBefore: ['shift-50', 'shift-100'] });
  const canarySpec = (reporter: string) => ({
    version: 1,
    pauseBefore: ['shift-50', 'shift-100'],
    analysis: {
      stable: 'v1',
      candidate: 'v2',
      stages: ['shift-10', 'shift-50', 'shift-100', 'unroute', 'drop-routable'],
      baselineStages: ['shift-10', 'shift-50'],
      interval: 30,
      count: 4,
      failureLimit: 1,
      noData: 'inconclusive',
      metrics: metricsJson,
      reporter,
    },
  });

  test.each([
    ['Istio (VirtualService)', TrafficRouter.istio(), 'VirtualService', canary, canarySpec('destination')],
    ['Gateway API (HTTPRoute)', TrafficRouter.gatewayApi(), 'HTTPRoute', canary, canarySpec('destination')],
    ['Gateway API in ambient mode: the waypoint reports', TrafficRouter.gatewayApi({ ambientWaypoint: 'waypoint' }), 'HTTPRoute', canary, canarySpec('waypoint')],
    ['a Service selector switch (the Service)', TrafficRouter.serviceSelector(), 'Service',
      ReleasePlan.blueGreen({ stable: 'v1', candidate: 'v2', analysis, pauseBefore: ['shift-100'] }),
      { ...canarySpec('destination'), pauseBefore: ['shift-100'], analysis: { ...canarySpec('destination').analysis, stages: ['shift-100', 'unroute', 'drop-routable'], baselineStages: [] } }],
  ])('%s', (_name, router, kind, plan, expected) => {
    const stages = stageDirs(plan, router);
    const [release] = releasesIn(stages[0]);
    expect(release.kind).toBe(kind);
    expect(rolloutOfPlan(stages, release)).toEqual(expected);
    expect(rolloutIn(stages[stages.length - 1], release)).toEqual(expected);
  });

  test('a plan with pauses only carries them; a plan with neither carries no annotation', () => {
    const paused = stageDirs(ReleasePlan.blueGreen({ stable: 'v1', candidate: 'v2', pauseBefore: ['shift-100'] }), TrafficRouter.istio());
    expect(rolloutOfPlan(paused, releasesIn(paused[0])[0])).toEqual({ version: 1, pauseBefore: ['shift-100'] });
    const plain = stageDirs(ReleasePlan.blueGreen({ stable: 'v1', candidate: 'v2' }), TrafficRouter.istio());
    expect(plain.flat().filter((m) => m.metadata.annotations?.[MeshRelease.ROLLOUT_ANNOTATION] !== undefined)).toEqual([]);
    expect(rolloutOfPlan(plain, releasesIn(plain[0])[0])).toBeUndefined();
  });
});

describe('hand-edited YAML is refused with the field and what is valid', () => {
  const plan = ReleasePlan.blueGreen({ stable: 'v1', candidate: 'v2', analysis: { metrics: [CanaryMetric.successRate({ min: 99 })] } });
  const stages = stageDirs(plan, TrafficRouter.istio());
  const release = releasesIn(stages[0])[0];
  const edit = (manifests: any[], change: (spec: any) => any) => manifests.map((m) => {
    const text = m.metadata.annotations?.[MeshRelease.ROLLOUT_ANNOTATION];
    return text === undefined ? m
      : { ...m, metadata: { ...m.metadata, annotations: { ...m.metadata.annotations, [MeshRelease.ROLLOUT_ANNOTATION]: change(JSON.parse(text)) } } };
  });

  test('a bad field: exit 2, naming the release, the annotation and the field', () => {
    const bad = edit(stages[3], (spec) => JSON.stringify({ ...spec, analysis: { ...spec.analysis, failureLimit: 3 } }));
    expect(() => rolloutIn(bad, release)).toThrow(expect.objectContaining({
      exitCode: 2,
      message: "release shop (VirtualService/shop in namespace prod): annotation mesh-release.io/rollout: 'analysis.failureLimit' must be an integer >= 0 "
        + 'and below count (3): failed evaluations tolerated per stage, one more rolls back, got 3',
    }));
  });

  test('not a string (YAML turned it into an object)', () => {
    const bad = edit(stages[3], (spec) => spec);
    expect(() => rolloutIn(bad, release)).toThrow('release shop (VirtualService/shop in namespace prod): annotation mesh-release.io/rollout must be a string of JSON');
  });

  test('stages that disagree', () => {
    const edited = [...stages];
    edited[3] = edit(stages[3], (spec) => JSON.stringify({ ...spec, pauseBefore: ['retire'] }));
    expect(() => rolloutOfPlan(edited, release)).toThrow("release shop: the mesh-release.io/rollout annotation of stage 'shift-100' differs from the one of stage 'stable': every stage of a plan carries the same analysis and pauses");
  });
});
