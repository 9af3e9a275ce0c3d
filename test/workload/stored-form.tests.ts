/**
 * `src/workload/_stored-form.ts`: what VersionedApp emits is what the API server stores (issue 19 item 11). The server
 * writes quantities in their canonical form (resource.Quantity's String(), k8s.io/apimachinery/pkg/api/resource) and
 * drops zero `omitempty` fields; the real API server holds the same in test/integration/reapply.integration.ts.
 */
import { ApiObject, Duration, JsonPatch, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Scaling, VersionedApp, VersionedAppProps } from '../../src';
import { canonicalQuantity } from '../../src/workload/_stored-form';
import { only } from '../_helpers';

const BASE: VersionedAppProps = { app: 'web', version: 'v1', image: 'example/web:1', port: 8080 };

describe('stored form', () => {
  test.each([
    // decimal: the largest power-of-1000 suffix that keeps the mantissa whole
    ['1000m', '1'], ['1500m', '1500m'], ['100m', '100m'], ['0m', '0'], ['0', '0'], ['0.5', '500m'], ['1.5', '1500m'], ['0.1', '100m'],
    ['2000', '2k'], ['1000000m', '1k'], ['2500000m', '2500'], ['12', '12'],
    // binary: the largest power-of-1024 suffix that keeps it whole; below 1024 bytes, decimal bytes
    ['1024Mi', '1Gi'], ['1536Mi', '1536Mi'], ['128Mi', '128Mi'], ['2048Mi', '2Gi'], ['0Mi', '0'], ['1048576Mi', '1Ti'], ['1024Gi', '1Ti'],
    ['0.5Ki', '512'], ['1.5Gi', '1536Mi'], ['1Ki', '1Ki'],
    // not a plain quantity: as written
    ['x', 'x'], ['-1', '-1'], ['1e3', '1e3'],
  ])('canonicalQuantity(%p) is %p, as the API server stores it', (written, stored) => {
    expect(canonicalQuantity(written)).toBe(stored);
  });

  /** The Deployment of a VersionedApp with `props`, after `extra` ran on it. */
  function deploymentOf(props: Partial<VersionedAppProps>, extra: (app: VersionedApp) => void = () => {}): any {
    const chart = Testing.chart();
    extra(new VersionedApp(chart, 'v1', { ...BASE, ...props }));
    return only(Testing.synth(chart), 'Deployment');
  }

  test('quantities in canonical form: cpu 1000m -> 1, memory 2048Mi -> 2Gi, ephemeral storage 1024Gi -> 1Ti', () => {
    const resources = deploymentOf({
      resources: {
        cpu: { request: kplus.Cpu.units(0.25), limit: kplus.Cpu.millis(2000) },
        memory: { request: Size.gibibytes(1), limit: Size.mebibytes(2048) },
        ephemeralStorage: { request: Size.gibibytes(2), limit: Size.tebibytes(1) },
      },
    }).spec.template.spec.containers[0].resources;
    expect(resources).toEqual({
      requests: { 'cpu': '250m', 'memory': '1Gi', 'ephemeral-storage': '2Gi' },
      limits: { 'cpu': '2', 'memory': '2Gi', 'ephemeral-storage': '1Ti' },
    });
  });

  test('zero omitempty fields are left out: minReadySeconds, hostNetwork, a probe initialDelaySeconds, an env value', () => {
    const deployment = deploymentOf({
      scaling: Scaling.fixed(2),
      env: { EMPTY: kplus.EnvValue.fromValue(''), SET: kplus.EnvValue.fromValue('x') },
    });
    expect(deployment.spec).not.toHaveProperty('minReadySeconds');
    expect(deployment.spec.template.spec).not.toHaveProperty('hostNetwork');
    expect(deployment.spec.template.spec.containers[0].env).toEqual([{ name: 'EMPTY' }, { name: 'SET', value: 'x' }]);
    const zeroDelay = deploymentOf({ probes: { initialDelay: Duration.seconds(0) } }).spec.template.spec.containers[0];
    expect(zeroDelay.readinessProbe).not.toHaveProperty('initialDelaySeconds');
    expect(zeroDelay.livenessProbe).not.toHaveProperty('initialDelaySeconds');
  });

  test('a container the user adds to the Deployment is written in the stored form too (cdk8s-plus defaults: 1000m, 1500m, 512Mi, 2048Mi)', () => {
    const deployment = deploymentOf({}, (app) => {
      app.deployment.addContainer({ name: 'sidecar', image: 'example/sidecar:1', command: [], args: [] });
      app.deployment.addInitContainer({ name: 'init', image: 'example/init:1', resources: { cpu: { request: kplus.Cpu.millis(3000) } } });
    });
    const sidecar = deployment.spec.template.spec.containers[1];
    expect(sidecar.resources).toEqual({ requests: { cpu: '1', memory: '512Mi' }, limits: { cpu: '1500m', memory: '2Gi' } });
    expect(sidecar).not.toHaveProperty('command');
    expect(sidecar).not.toHaveProperty('args');
    expect(deployment.spec.template.spec.initContainers[0].resources.requests.cpu).toBe('3');
  });

  test('a user JSON patch still applies after (on the stored form)', () => {
    const deployment = deploymentOf({}, (app) => {
      ApiObject.of(app.deployment).addJsonPatch(JsonPatch.add('/spec/minReadySeconds', 5));
    });
    expect(deployment.spec.minReadySeconds).toBe(5);
  });

  test('the Services have no externalIPs: [] (cdk8s-plus writes one; the server stores none)', () => {
    const chart = Testing.chart();
    new VersionedApp(chart, 'v1', { ...BASE, createService: true });
    expect(only(Testing.synth(chart), 'Service').spec).not.toHaveProperty('externalIPs');
  });
});
