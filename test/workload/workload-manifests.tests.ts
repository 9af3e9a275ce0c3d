/**
 * `workloadManifests` (src/workload/_workload-manifests.ts): a resolved version's Deployment and autoscaler in the
 * fields the safety check reads, made without constructs. What the check reads from them equals what it reads from
 * the objects `VersionedApp` emits for the same props.
 */
import { Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Scaling, VersionedApp, VersionedAppProps } from '../../src';
import { readOptions } from '../../src/safety/_engine';
import { StageManifests } from '../../src/safety/_manifests';
import { readWorkloads } from '../../src/safety/_workloads';
import { ResolvedVersion } from '../../src/workload/_resolved-version';
import { workloadManifests } from '../../src/workload/_workload-manifests';

const BASE: VersionedAppProps = { app: 'web', version: 'v1', image: 'example/web:1', port: 8080 };
const manifestsOf = (props: Partial<VersionedAppProps> = {}) => workloadManifests(new ResolvedVersion('chart/web-v1', { ...BASE, ...props }));

describe('workloadManifests', () => {
  test('autoscaled (the default): a Deployment without replicas and an autoscaler targeting it', () => {
    const [deployment, hpa, ...rest] = manifestsOf();
    expect(rest).toEqual([]);
    expect(deployment).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web-v1' } });
    expect(deployment.spec).not.toHaveProperty('replicas');
    expect(hpa).toMatchObject({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web-v1' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-v1' }, minReplicas: 2, maxReplicas: 4 },
    });
  });

  test('fixed replicas: the Deployment alone, with replicas', () => {
    const manifests = manifestsOf({ scaling: Scaling.fixed(3) });
    expect(manifests.map((m) => m.kind)).toEqual(['Deployment']);
    expect(manifests[0].spec.replicas).toBe(3);
  });

  test('the pods: version labels and selector, a rolling update that never takes a pod away, grace period, preStop sleep, proxy drain', () => {
    const [deployment] = manifestsOf({
      maxSurge: kplus.PercentOrAbsolute.absolute(2), terminationGracePeriod: Duration.seconds(45), preStopSleep: Duration.seconds(5),
    });
    expect(deployment.metadata.labels).toMatchObject({ 'app': 'web', 'version': 'v1', 'app.kubernetes.io/version': 'v1' });
    expect(deployment.spec.selector.matchLabels).toEqual({ app: 'web', version: 'v1' });
    expect(deployment.spec.template.metadata.labels).toEqual(deployment.metadata.labels);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } });
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(45);
    expect(deployment.spec.template.spec.containers).toEqual([{ name: 'web', lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } } }]);
    expect(JSON.parse(deployment.spec.template.metadata.annotations['proxy.istio.io/config'])).toMatchObject({ terminationDrainDuration: '15s' });
  });

  test('without the proxy lifecycle: no proxy annotation', () => {
    const [deployment] = manifestsOf({ proxyLifecycle: false });
    expect(deployment.spec.template.metadata.annotations).toEqual({});
  });

  test.each<[string, Partial<VersionedAppProps>]>([
    ['the defaults', {}],
    ['fixed replicas', { scaling: Scaling.fixed(1) }],
    ['an autoscaler with a raised floor', { scaling: Scaling.autoscale({ minReplicas: 3, maxReplicas: 9 }).withMinReplicas(5) }],
    ['no proxy lifecycle, a short grace period', { proxyLifecycle: false, terminationGracePeriod: Duration.seconds(20), preStopSleep: Duration.seconds(3) }],
    ['a long drain and an absolute surge', { sidecarDrainDuration: Duration.seconds(40), terminationGracePeriod: Duration.seconds(90), maxSurge: kplus.PercentOrAbsolute.absolute(1) }],
    ['extra labels and pod annotations', { labels: { team: 'shop' }, podAnnotations: { 'example.com/owner': 'shop' } }],
  ])('the safety check reads the same from them as from the VersionedApp: %s', (_name, props) => {
    const chart = Testing.chart();
    new VersionedApp(chart, 'web-v1', { ...BASE, ...props });
    const read = (manifests: any[]) => readWorkloads(new StageManifests(manifests, readOptions('shop')));
    const emitted = read(Testing.synth(chart));
    expect(emitted).toHaveLength(1);
    expect(read(manifestsOf(props))).toEqual(emitted);
  });
});
