import { WorkloadOptions } from './workload-options';

/**
 * Props of `VersionedApp`: one version of one service.
 */
export interface VersionedAppProps extends WorkloadOptions {
  /**
   * Name of the service, the `app` label of its pods. A DNS-1035 label.
   */
  readonly app: string;

  /**
   * Version of the service, the `version` label of its pods (and the Istio subset name). A DNS-1035 label.
   */
  readonly version: string;

  /**
   * Container image, e.g. `learnistio/helloworld:1.0.0`: a Docker reference
   * (`[registry[:port]/]repository[:tag][@sha256:<digest>]`, repository lowercase).
   */
  readonly image: string;

  /**
   * Port the container listens on, 1–65535, not one of the Istio sidecar's ports
   * (15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090).
   * @see https://istio.io/latest/docs/ops/deployment/requirements/#ports-used-by-istio
   */
  readonly port: number;

  /**
   * Name of the container (and Service) port. Istio selects the protocol from its prefix
   * (`http`, `http2`, `grpc`, `tcp`...).
   * @default 'http'
   */
  readonly portName?: string;

  /**
   * `appProtocol` of the Service port, which Istio prefers over the port name for
   * protocol selection (only with `createService`): an IANA service name (`http2`, `grpc`)
   * or a domain-prefixed name (`kubernetes.io/h2c`).
   * @see https://kubernetes.io/docs/concepts/services-networking/service/#application-protocol
   * @default - none (the port name selects the protocol)
   */
  readonly appProtocol?: string;

  /**
   * Create a Service named after the app, selecting on `app` only (never `version`), for
   * plain-Kubernetes rolling updates without a mesh. In a mesh release the Service
   * belongs to `MeshRelease` instead.
   * @default false
   */
  readonly createService?: boolean;
}
