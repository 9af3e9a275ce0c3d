/**
 * Props that moved or were renamed before 1.0 (README, Changelog) are refused with the new name, not dropped: a
 * spread or JavaScript gets past TypeScript's excess-property check (found by the hostile review of issue 18).
 */
import { App, Chart } from 'cdk8s';
import { MeshRelease, ReleasePlan, ReleaseStage } from '../../src';

const stage = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10] }).stage('shift-10');
const versions = [{ version: 'v1', image: 'example/web:1' }, { version: 'v2', image: 'example/web:2' }];
const build = (props: object) => () => new MeshRelease(new Chart(new App(), 'c'), 'web', { app: 'web', port: 80, versions, stage, ...props });

test.each([
  [{ hosts: ['web.example.com'] }, "[c/web] 'hosts' moved to the Istio router's options: router: TrafficRouter.istio({ hosts })"],
  [{ gateways: ['istio-system/public'] }, "[c/web] 'gateways' moved to the Istio router's options: router: TrafficRouter.istio({ gateways })"],
  [{ trafficPolicy: {} }, "[c/web] 'trafficPolicy' moved to the Istio router's options: router: TrafficRouter.istio({ trafficPolicy })"],
  [{ versions: [versions[0], { ...versions[1], trafficPolicy: {} }] }, "[c/web] 'versions[v2].trafficPolicy' moved to the Istio router's options: router: TrafficRouter.istio({ subsetTrafficPolicies: { 'v2': ... } })"],
  [{ defaults: { istioSidecarLifecycle: false } }, "[c/web/v1] 'istioSidecarLifecycle' was renamed proxyLifecycle"],
])('MeshRelease refuses %j, naming what replaces it', (props, message) => {
  expect(build(props)).toThrow(message);
});

test('ReleaseStage refuses subsets, naming routable', () => {
  expect(() => ReleaseStage.custom({ name: 'x', deployed: ['v1'], subsets: ['v1'], weights: [{ version: 'v1', weight: 100 }] } as any))
    .toThrow("ReleaseStage 'x': 'subsets' was renamed 'routable' (README, Changelog), got [\"v1\"]");
});
