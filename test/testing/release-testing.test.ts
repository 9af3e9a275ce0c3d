/**
 * `ReleaseTesting` (src/testing/): the helpers users test their plans with. The stages of real plans through
 * `assertPlan` are tested with the release (test/release/plans.tests.ts); here, what the helpers refuse.
 */
import { ApiObject, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import { MeshRelease, ReleasePlan, ReleaseStage, ReleaseTesting } from '../../src';
import { TWO_VERSIONS } from '../_helpers';

const builder = (versions = TWO_VERSIONS) => ({
  buildStage: (scope: Construct, stage: ReleaseStage) => new MeshRelease(scope, 'helloworld', { app: 'helloworld', port: 3000, versions, stage }),
});

describe('ReleaseTesting', () => {
  test('assertPlan fails on a schema violation, naming the object and field', () => {
    // (an unknown field would not survive cdk8s-plus' typed serialization: use a wrong type)
    const broken = {
      buildStage: (scope: Construct, stage: ReleaseStage) => {
        const release = new MeshRelease(scope, 'helloworld', { app: 'helloworld', port: 3000, versions: TWO_VERSIONS, stage });
        ApiObject.of(release.versionedApps[0].deployment).addJsonPatch(JsonPatch.replace('/spec/minReadySeconds', 'soon'));
      },
    };
    expect(() => ReleaseTesting.assertPlan(broken, ReleasePlan.blueGreen({ stable: 'v1', candidate: 'v2' })))
      .toThrow(/Deployment\/helloworld-v1 \/spec\/minReadySeconds: must be integer/);
  });

  test('assertSafe fails on a skipped stage', () => {
    const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10] });
    const [stable, shift] = [ReleaseTesting.synthStage(builder(), plan.stage('stable')), ReleaseTesting.synthStage(builder(), plan.stage('shift-10'))];
    expect(() => ReleaseTesting.assertSafe(shift, stable, 'stable -> shift-10'))
      .toThrow(/^stable -> shift-10 is unsafe to apply \(\d violations\):\n\[subset-before-route\]/);
  });

  test('synthStage synthesizes the builder at a stage; synthPlan every stage, in order, named', () => {
    const plan = ReleasePlan.blueGreen({ stable: 'v1', candidate: 'v2' });
    const kindsOf = (manifests: any[]) => manifests.map((m) => `${m.kind}/${m.metadata.name}`);
    expect(kindsOf(ReleaseTesting.synthStage(builder(), plan.stage('stable')))).toEqual(expect.arrayContaining(['Service/helloworld', 'Deployment/helloworld-v1']));
    const stages = ReleaseTesting.synthPlan(builder(), plan);
    expect(stages.map((s) => s.stage)).toEqual(plan.stageNames);
    expect(stages[0].manifests).toEqual(ReleaseTesting.synthStage(builder(), plan.stages[0]));
  });

  test('assertPlan and assertSafe read a release synthesized for another cluster domain with that domain (its mesh-release.io/cluster-domain)', () => {
    const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10] });
    const corp = {
      buildStage: (scope: Construct, stage: ReleaseStage) =>
        new MeshRelease(scope, 'helloworld', { app: 'helloworld', port: 3000, versions: TWO_VERSIONS, stage, clusterDomain: 'corp.internal' }),
    };
    expect(ReleaseTesting.assertPlan(corp, plan).map((s) => s.stage)).toEqual(plan.stageNames);
    const [stable, shift] = [ReleaseTesting.synthStage(corp, plan.stage('stable')), ReleaseTesting.synthStage(corp, plan.stage('shift-10'))];
    // A skipped stage is still refused, by the rules that find the versions by host.
    expect(() => ReleaseTesting.assertSafe(shift, stable)).toThrow(/^stage is unsafe to apply \(\d violations\):\n\[subset-before-route\]/);
  });

  test('assertSafe passes a safe transition; the schema helpers list, then throw on, what the schemas refuse', () => {
    const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10] });
    const [deploy, shift] = [ReleaseTesting.synthStage(builder(), plan.stage('deploy')), ReleaseTesting.synthStage(builder(), plan.stage('shift-10'))];
    expect(() => ReleaseTesting.assertSafe(shift, deploy)).not.toThrow();
    expect(ReleaseTesting.validateSchemas(shift)).toEqual([]);
    const broken = [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'helloworld' }, spec: { ports: [{ port: 'http' }] } }];
    expect(ReleaseTesting.validateSchemas(broken).map((v) => `${v.object} ${v.path}`)).toEqual(['Service/helloworld /spec/ports/0/port']);
    expect(() => ReleaseTesting.assertValidSchemas(broken)).toThrow(/Service\/helloworld \/spec\/ports\/0\/port/);
  });
});
