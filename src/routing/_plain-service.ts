/**
 * A Service as plain JSON, field for field what `kplus.Service` renders for the same name, labels,
 * port and selector, less the `externalIPs: []` the release drops (the API server stores none; see
 * `workload/_stored-form.ts`) (the checks read this JSON; the version-free Service is emitted with
 * cdk8s-plus, so users keep its API, and a test holds the two equal).
 */
import { Labels } from '../_conventions';

/** What a release's Services differ in. */
export interface PlainServiceOptions {
  readonly name: string;
  readonly labels: Labels;
  readonly annotations?: Labels;
  readonly portName: string;
  readonly port: number;
  readonly appProtocol?: string;
  readonly selector: Labels;
}

/** A ClusterIP Service with one port (`targetPort` = `port`). */
export function plainService(o: PlainServiceOptions): any {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: o.name, labels: o.labels, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      ports: [{ name: o.portName, port: o.port, targetPort: o.port, ...(o.appProtocol ? { appProtocol: o.appProtocol } : {}) }],
      selector: o.selector,
      type: 'ClusterIP',
    },
  };
}
