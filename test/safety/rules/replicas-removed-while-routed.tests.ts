/** `replicas-removed-while-routed` (src/safety/rules/replicas-removed-while-routed.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../src/safety/safety-check';
import { SafetyRule, Severity } from '../../../src/safety/safety-rule';
import {
  autoscaler, deployment, destinationRule, headerRoute, HOST, patched, rulesOf, service, serviceStage, violating, virtualService, weighted,
} from '../_cases';

const MIGRATING = 'https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#migrating-deployments-and-statefulsets-to-horizontal-autoscaling';

/** The exact violation of `object` dropping `replicas` while `label` receives traffic `when`. */
function dropped(object: string, replicas: number, label: string, when: string): any {
  return {
    rule: SafetyRule.REPLICAS_REMOVED_WHILE_ROUTED,
    severity: Severity.ERROR,
    object,
    message: `sets spec.replicas: ${replicas} in the previous stage and leaves it out in this one, while ${label} receives traffic ${when}: `
      + 'applying this stage removes the field (kubectl apply: it is in the last-applied configuration; server-side apply: its field '
      + 'manager owned it), and the API server sets the default, 1 pod, until an autoscaler scales it back',
    fix: `keep spec.replicas: ${replicas} (Scaling.fixed(${replicas})) on ${object} until a stage where its version gets no traffic, or hand `
      + 'the field over first (kubectl apply edit-last-applied to take replicas out of the last-applied configuration, or a '
      + `server-side apply field-manager transfer), see ${MIGRATING} and https://kubernetes.io/docs/reference/using-api/server-side-apply/#transferring-ownership`,
  };
}

/** A stage of v1 and v2 with the given Deployments and autoscalers, v1/v2 weights and extra http routes first. */
function twoVersions(workloads: any[], v1: number, v2: number, ...first: any[]): any[] {
  return [service(), ...workloads, destinationRule(['v1', 'v2']), virtualService(...first, weighted([['v1', v1], ['v2', v2]]))];
}

describe(SafetyRule.REPLICAS_REMOVED_WHILE_ROUTED, () => {
  test('replicas: 10 left out for an autoscaler while the version takes all traffic is refused, naming the Deployment, the count and why', () => {
    // GIVEN v1 at 100% on replicas: 10, then at 100% on an HPA (minReplicas 10) without replicas
    const { previous, current } = violating(SafetyRule.REPLICAS_REMOVED_WHILE_ROUTED);

    // WHEN checking the transition
    const violations = SafetyCheck.check(current, previous);

    // THEN the drop to 1 pod is refused
    expect(violations).toEqual([dropped('Deployment/helloworld-v1', 10, `subset 'v1' of ${HOST}`, 'in both stages')]);
  });

  test('the roll back (autoscaled to replicas: 10) sets the field: no violation', () => {
    const { previous, current } = violating(SafetyRule.REPLICAS_REMOVED_WHILE_ROUTED);
    expect(SafetyCheck.check(previous!, current)).toEqual([]);
  });

  test('traffic in one of the two stages is enough: a share before, or a header route or a mirror now', () => {
    // GIVEN v1 on replicas: 10 in the previous stage, autoscaled in this one
    const fixed = [deployment('v1', { replicas: 10 }), deployment('v2', { replicas: 10 })];
    const autoscaled = [deployment('v1'), autoscaler('v1', 10), deployment('v2', { replicas: 10 })];

    // WHEN v1 goes from 10% to 0%, or from 0% to a header route, or from 0% to a 5% mirror
    const shareBefore = SafetyCheck.check(twoVersions(autoscaled, 0, 100), twoVersions(fixed, 10, 90));
    const headerNow = SafetyCheck.check(twoVersions(autoscaled, 0, 100, headerRoute('v1')), twoVersions(fixed, 0, 100));
    const mirrorNow = SafetyCheck.check(
      patched(twoVersions(autoscaled, 0, 100), 'VirtualService', (vs) => {
        vs.spec.http[0].mirror = { host: 'helloworld', subset: 'v1' };
        vs.spec.http[0].mirrorPercentage = { value: 5 };
      }),
      twoVersions(fixed, 0, 100));

    // THEN each is refused, saying in which stage v1 receives traffic
    const label = `subset 'v1' of ${HOST}`;
    expect(shareBefore.filter((v) => v.rule === SafetyRule.REPLICAS_REMOVED_WHILE_ROUTED))
      .toEqual([dropped('Deployment/helloworld-v1', 10, label, 'in the previous stage')]);
    expect(headerNow).toEqual([dropped('Deployment/helloworld-v1', 10, label, 'in this stage')]);
    expect(mirrorNow).toEqual([dropped('Deployment/helloworld-v1', 10, label, 'in this stage')]);
  });

  test('no traffic in either stage, replicas: 1 (the default) or replicas: 0 left out, or replicas kept (lowered) are not this rule', () => {
    const fixed = (replicas: number) => [deployment('v1', { replicas }), deployment('v2', { replicas: 10 })];
    const autoscaled = [deployment('v1'), autoscaler('v1', 2), deployment('v2', { replicas: 10 })];
    const ours = (v: any[]) => rulesOf(v).filter((r) => r === SafetyRule.REPLICAS_REMOVED_WHILE_ROUTED);

    // v1 at 0% (listed, weight 0) in both stages: it may switch to an autoscaler
    expect(ours(SafetyCheck.check(twoVersions(autoscaled, 0, 100), twoVersions(fixed(10), 0, 100)))).toEqual([]);
    // replicas: 1 or 0 left out: the default (1) is not fewer pods
    expect(ours(SafetyCheck.check(twoVersions(autoscaled, 50, 50), twoVersions(fixed(1), 50, 50)))).toEqual([]);
    expect(ours(SafetyCheck.check(twoVersions(autoscaled, 0, 100), twoVersions(fixed(0), 0, 100)))).toEqual([]);
    // replicas lowered but still written: capacity's concern, not a removed field
    expect(ours(SafetyCheck.check(twoVersions(fixed(5), 50, 50), twoVersions(fixed(10), 50, 50)))).toEqual([]);
    // the Deployment deleted: deployment-removed-while-subset's concern
    expect(ours(SafetyCheck.check(twoVersions([deployment('v2', { replicas: 10 })], 0, 100), twoVersions(fixed(10), 0, 100)))).toEqual([]);
  });

  test('a Deployment read back from a cluster (replicas: 6, written by its autoscaler) staying autoscaled is fine', () => {
    // GIVEN the live objects: helloworld-v1 at replicas: 6 (the HPA's count), its HPA; the stage: no replicas, the same HPA
    const previous = [service(), deployment('v1', { replicas: 6 }), autoscaler('v1', 2), destinationRule(['v1']), virtualService(weighted([['v1', 100]]))];
    const { current } = violating(SafetyRule.REPLICAS_REMOVED_WHILE_ROUTED);

    // WHEN / THEN the field was the autoscaler's: leaving it out changes nothing
    expect(rulesOf(SafetyCheck.check(current, previous))).not.toContain(SafetyRule.REPLICAS_REMOVED_WHILE_ROUTED);
  });

  test('a Deployment of the same name in another namespace is another Deployment', () => {
    // GIVEN helloworld-v1 with replicas: 10 in namespace other, and without replicas in default, routed in both stages
    const previous = [service(), deployment('v1', { replicas: 10, namespace: 'other' }), deployment('v1', { replicas: 3 }),
      destinationRule(['v1']), virtualService(weighted([['v1', 100]]))];
    const current = [service(), deployment('v1', { replicas: 3 }), destinationRule(['v1']), virtualService(weighted([['v1', 100]]))];

    // WHEN / THEN the one in default kept its replicas; the one in other was deleted, not changed
    expect(rulesOf(SafetyCheck.check(current, previous))).not.toContain(SafetyRule.REPLICAS_REMOVED_WHILE_ROUTED);
  });

  test('with the Gateway API (per-version Services) and for a StatefulSet too', () => {
    // GIVEN v1 behind Service helloworld-v1 at 100%, replicas: 4 then left out
    const previous = patched(serviceStage(['v1'], ['v1'], [['v1', 100]]), 'Deployment', (d) => { d.spec.replicas = 4; });
    const current = serviceStage(['v1'], ['v1'], [['v1', 100]]);
    const asStatefulSet = (m: any[]) => patched(m, 'Deployment', (d) => { d.kind = 'StatefulSet'; d.spec.serviceName = 'helloworld-v1'; });

    // WHEN / THEN
    expect(SafetyCheck.check(current, previous)).toEqual([dropped('Deployment/helloworld-v1', 4, 'Service default/helloworld-v1', 'in both stages')]);
    expect(SafetyCheck.check(asStatefulSet(current), asStatefulSet(previous)).filter((v) => v.rule === SafetyRule.REPLICAS_REMOVED_WHILE_ROUTED))
      .toEqual([dropped('StatefulSet/helloworld-v1', 4, 'Service default/helloworld-v1', 'in both stages')]);
  });
});
