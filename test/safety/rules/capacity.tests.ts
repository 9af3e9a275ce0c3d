/** `capacity` (src/safety/rules/capacity.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../src/safety/safety-check';
import { SafetyRule } from '../../../src/safety/safety-rule';
import {
  autoscaler, deployment, destinationRule, fixture, HOST, service, stage, violating, violation, virtualService, warning, weighted,
} from '../_cases';

describe(SafetyRule.CAPACITY, () => {
  test('a routed version with replicas: 0 is reported', () => {
    // GIVEN all traffic to v1, which runs 0 replicas
    const { current } = violating(SafetyRule.CAPACITY);

    // WHEN / THEN the floor and where it comes from are named
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.CAPACITY, 'VirtualService/helloworld http[0]',
      [`sends traffic to subset 'v1' of ${HOST}`, 'no pod of it is guaranteed (Deployment/helloworld-v1 replicas: 0)'],
      ['give the version at least one replica (replicas, or HorizontalPodAutoscaler minReplicas) while it receives traffic'])]);
  });

  test('a version scaled to 0 in the stage that routes 100% to it is reported', () => {
    // GIVEN v2 ran 3 pods at weight 0, and is scaled to 0 in the stage that gives it 100%
    // (v1 keeps its 3 pods, so rolling back is covered)
    const previous = [service(), deployment('v1', { replicas: 3 }), deployment('v2', { replicas: 3 }), destinationRule(['v1', 'v2']), virtualService(weighted([['v1', 100], ['v2', 0]]))];
    const current = [service(), deployment('v1', { replicas: 3 }), deployment('v2', { replicas: 0 }), destinationRule(['v1', 'v2']), virtualService(weighted([['v1', 0], ['v2', 100]]))];

    // WHEN / THEN
    expect(SafetyCheck.check(current, previous)).toEqual([violation(SafetyRule.CAPACITY, 'VirtualService/helloworld http[0]', ["subset 'v2'", 'replicas: 0'], ['at least one replica'])]);
  });

  test('an HorizontalPodAutoscaler with minReplicas 0 on a routed version is reported (its floor wins over replicas)', () => {
    // GIVEN helloworld-v1 with replicas 3, autoscaled from 0
    const current = [...stage(['v1'], ['v1'], weighted([['v1', 100]])), autoscaler('v1', 0)];

    // WHEN / THEN
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.CAPACITY, 'VirtualService/helloworld http[0]',
      ['no pod of it is guaranteed (Deployment/helloworld-v1 HorizontalPodAutoscaler/helloworld-v1 minReplicas: 0)'], ['HorizontalPodAutoscaler minReplicas'])]);
  });

  // Found by the hostile review of issue 18: the autoscaler's minReplicas was taken as the floor.
  test('an autoscaled version patched to replicas: 0 is reported: the HPA controller does not scale a target at 0 (ScalingDisabled)', () => {
    // GIVEN helloworld-v1 at replicas 0, with an autoscaler from 2
    const current = [...stage(['v1'], ['v1'], weighted([['v1', 100]])).map((m) => (m.kind === 'Deployment' ? deployment('v1', { replicas: 0 }) : m)), autoscaler('v1', 2)];

    // WHEN / THEN
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.CAPACITY, 'VirtualService/helloworld http[0]',
      ['no pod of it is guaranteed', 'replicas: 0, which the HPA controller does not scale up (ScalingDisabled)'], ['at least one replica'])]);
  });

  test.each([
    ['strategy Recreate', { type: 'Recreate' }, 2, 'strategy Recreate stops every pod before starting the new ones'],
    ['maxUnavailable 100%', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '100%', maxSurge: 0 } }, 2, 'rollingUpdate.maxUnavailable 100% lets a rollout stop every pod at once'],
    ['maxUnavailable 2 of 2 pods', { rollingUpdate: { maxUnavailable: 2 } }, 2, 'rollingUpdate.maxUnavailable 2 is at least the 2 pod(s) guaranteed'],
    ['maxUnavailable 1 of 1 pod', { rollingUpdate: { maxUnavailable: 1 } }, 1, 'rollingUpdate.maxUnavailable 1 is at least the 1 pod(s) guaranteed'],
  ])('a routed version rolled with %s is reported', (_name, strategy, replicas, message) => {
    // GIVEN v1 routed, with that rollout strategy
    const current = [service(), deployment('v1', { replicas, strategy }), destinationRule(['v1']), virtualService(weighted([['v1', 100]]))];

    // WHEN / THEN the Deployment is blamed
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.CAPACITY, 'Deployment/helloworld-v1',
      ['receives traffic through VirtualService/helloworld http[0]', message, `the next rollout leaves subset 'v1' of ${HOST} with no ready pod`],
      ['use strategy RollingUpdate with maxUnavailable 0 (or below the replica count) and maxSurge above 0'])]);
  });

  test.each([
    ['the default strategy', undefined, 1],
    ['maxUnavailable 0', { rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }, 1],
    ['maxUnavailable 99% of 1 pod (rounds down to 0)', { rollingUpdate: { maxUnavailable: '99%' } }, 1],
    ['maxUnavailable 1 of 2 pods', { rollingUpdate: { maxUnavailable: 1 } }, 2],
  ])('a routed version rolled with %s is fine', (_name, strategy, replicas) => {
    const current = [service(), deployment('v1', { replicas, strategy }), destinationRule(['v1']), virtualService(weighted([['v1', 100]]))];
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('an unrouted (weight 0) version may run 0 replicas or roll with Recreate', () => {
    // GIVEN v2 listed at weight 0, replicas 0, Recreate
    const current = [service(), deployment('v1'), deployment('v2', { replicas: 0, strategy: { type: 'Recreate' } }), destinationRule(['v1', 'v2']),
      virtualService(weighted([['v1', 100], ['v2', 0]]))];

    // WHEN / THEN no request reaches it
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('a fixed replica count far below its share of traffic is a warning', () => {
    // GIVEN v1 on 10 pods and v2 on 1 pod, 50/50: v2 needs about 5
    const current = [service(), deployment('v1', { replicas: 10 }), deployment('v2', { replicas: 1 }), destinationRule(['v1', 'v2']),
      virtualService(weighted([['v1', 50], ['v2', 50]]))];

    // WHEN / THEN
    expect(SafetyCheck.check(current)).toEqual([warning(SafetyRule.CAPACITY, 'VirtualService/helloworld http[0]',
      [`subset 'v2' of ${HOST} receives 50% of the requests on 1 guaranteed pod(s), while 10 pod(s) carry 100% elsewhere in the route: it needs about 5`],
      ['raise the floor of Deployment/helloworld-v2 to at least 5 while it receives 50%'])]);
  });

  test('half of the pods its share needs is still fine (no warning)', () => {
    // GIVEN v1 on 10 pods and v2 on 3 pods, 50/50 (needs 5, has more than half of it)
    const current = [service(), deployment('v1', { replicas: 10 }), deployment('v2', { replicas: 3 }), destinationRule(['v1', 'v2']),
      virtualService(weighted([['v1', 50], ['v2', 50]]))];
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('routed-replicas-zero.yaml, hpa-min-replicas-zero.yaml, rollout-takes-all-pods.yaml', () => {
    const REVIEWS = 'reviews.bookinfo.svc.cluster.local';
    expect(SafetyCheck.check(fixture('routed-replicas-zero.yaml'))).toEqual([violation(SafetyRule.CAPACITY, 'VirtualService/reviews http[0]',
      [`subset 'v2' of ${REVIEWS}`, 'Deployment/reviews-v2 replicas: 0'], ['at least one replica'])]);
    expect(SafetyCheck.check(fixture('hpa-min-replicas-zero.yaml'))).toEqual([violation(SafetyRule.CAPACITY, 'VirtualService/reviews http[0]',
      [`subset 'v2' of ${REVIEWS}`, 'HorizontalPodAutoscaler/reviews-v2 minReplicas: 0'], ['at least one replica'])]);
    expect(SafetyCheck.check(fixture('rollout-takes-all-pods.yaml'))).toEqual([
      violation(SafetyRule.CAPACITY, 'Deployment/reviews-v1', ['strategy Recreate'], ['maxUnavailable 0']),
      violation(SafetyRule.CAPACITY, 'Deployment/reviews-v2', ['maxUnavailable 100%'], ['maxUnavailable 0']),
    ]);
  });
});
