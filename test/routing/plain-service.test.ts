/**
 * `plainService` (src/routing/_plain-service.ts): a Service as plain JSON, what the checks read. The release emits
 * its version-free Service with cdk8s-plus, and the Gateway API router its per-version Services as this JSON: both
 * must be the same object, field for field.
 */
import { ApiObject, JsonPatch, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { PlainServiceOptions, plainService } from '../../src/routing/_plain-service';
import { dropEmptyExternalIps } from '../../src/workload/_stored-form';

const WEB: PlainServiceOptions = { name: 'web', labels: { app: 'web' }, portName: 'http', port: 8080, selector: { app: 'web' } };

/** The Service cdk8s-plus renders for the same options, built as MeshRelease builds it. */
function kplusService(o: PlainServiceOptions): any {
  const chart = Testing.chart();
  const service = new kplus.Service(chart, 'Service', {
    metadata: { name: o.name, labels: o.labels, annotations: o.annotations },
    ports: [{ name: o.portName, port: o.port, targetPort: o.port }],
  });
  for (const [key, value] of Object.entries(o.selector)) {
    service.selectLabel(key, value);
  }
  dropEmptyExternalIps(service);
  if (o.appProtocol) {
    ApiObject.of(service).addJsonPatch(JsonPatch.add('/spec/ports/0/appProtocol', o.appProtocol));
  }
  return Testing.synth(chart)[0];
}

describe('plainService', () => {
  test('a ClusterIP Service with one port whose targetPort is the port', () => {
    expect(plainService(WEB)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', labels: { app: 'web' } },
      // No `externalIPs: []` (cdk8s-plus writes one; the API server stores none: issue 19 item 11).
      spec: { ports: [{ name: 'http', port: 8080, targetPort: 8080 }], selector: { app: 'web' }, type: 'ClusterIP' },
    });
  });

  test('annotations and appProtocol only when given', () => {
    expect(plainService(WEB).metadata).not.toHaveProperty('annotations');
    expect(plainService(WEB).spec.ports[0]).not.toHaveProperty('appProtocol');
    const service = plainService({ ...WEB, annotations: { 'mesh-release.io/stage': 'stable' }, appProtocol: 'http2' });
    expect(service.metadata.annotations).toEqual({ 'mesh-release.io/stage': 'stable' });
    expect(service.spec.ports[0].appProtocol).toBe('http2');
  });

  test.each<[string, PlainServiceOptions]>([
    ['the version-free Service', WEB],
    ['a per-version Service', { ...WEB, name: 'web-v2', labels: { 'app': 'web', 'app.kubernetes.io/version': 'v2' }, selector: { app: 'web', version: 'v2' } }],
    ['with annotations, an appProtocol and another port name', {
      ...WEB, annotations: { 'mesh-release.io/stage': 'shift-100' }, appProtocol: 'kubernetes.io/h2c', portName: 'grpc', port: 9090,
    }],
    ['a selector switch', { ...WEB, selector: { app: 'web', version: 'green' }, labels: { 'app': 'web', 'istio.io/use-waypoint': 'waypoint' } }],
  ])('equals what cdk8s-plus renders: %s', (_name, options) => {
    expect(plainService(options)).toEqual(kplusService(options));
  });
});
