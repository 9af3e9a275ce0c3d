/**
 * The integration harness's client of the Kubernetes REST API: the driver's own client (`KubeClient`,
 * src/rollout/kube-client.ts) with the harness's field manager, reading the control plane's kubeconfig as `rollout`
 * does (src/rollout/kube-config.ts), in the shapes the integration files call: a list resolves to its items and its
 * `resourceVersion`, a query string selects by label, an apply takes its options as an object, a watch is of all
 * namespaces.
 */
import { KubeApiError, KubeClient, KubeWatch } from '../../src/rollout/kube-client';
import { loadKubeAccess } from '../../src/rollout/kube-config';

/** An answer of the API server other than 2xx (`status`: the HTTP status, 0 for no answer). */
export { KubeApiError as ApiError };

/** Field manager of everything the harness applies (the driver's is `mesh-release`). */
const FIELD_MANAGER = 'mesh-release-integration';

export class Kube {
  readonly client: KubeClient;

  /** A client of the cluster of `kubeconfig`'s current context. */
  constructor(kubeconfig: string) {
    this.client = new KubeClient(loadKubeAccess({ kubeconfig }), { fieldManager: FIELD_MANAGER });
  }

  /** One request; resolves to the parsed JSON answer (or the text, e.g. of `/readyz`). */
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<any> {
    return this.client.request(method, path, body, contentType);
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<any> {
    return this.client.get(apiVersion, kind, namespace, name);
  }

  /** The object, or undefined when it does not exist. */
  find(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<any | undefined> {
    return this.client.find(apiVersion, kind, namespace, name);
  }

  /** The objects (of all namespaces without `namespace`); `query`: empty or `labelSelector=<URL-encoded selector>`. */
  async list(apiVersion: string, kind: string, namespace?: string, query = ''): Promise<{ items: any[]; resourceVersion: string }> {
    const params = new URLSearchParams(query);
    const others = [...params.keys()].filter((k) => k !== 'labelSelector');
    if (others.length > 0) {
      throw new Error(`list ${kind}: the harness selects by labelSelector only, got ${others.join(', ')} in '${query}'`);
    }
    return this.client.listCollection(apiVersion, kind, namespace, params.get('labelSelector') ?? undefined);
  }

  /**
   * Server-side apply of one object (`kubectl apply --server-side --force-conflicts --validate=strict`); with
   * `dryRun`, the API server runs every admission and validation step and stores nothing.
   */
  apply(object: any, options: { dryRun?: boolean; namespace?: string } = {}): Promise<any> {
    return this.client.apply(object, options.namespace, options.dryRun);
  }

  /** A JSON merge patch of an object or of its status (`subresource` 'status'). */
  mergePatch(apiVersion: string, kind: string, namespace: string | undefined, name: string, patch: unknown, subresource?: string): Promise<any> {
    return this.client.mergePatch(apiVersion, kind, namespace, name, patch, subresource);
  }

  create(object: any): Promise<any> {
    return this.client.create(object);
  }

  /** Watches a kind in all namespaces from `resourceVersion` (`KubeClient.watch`). */
  watch(apiVersion: string, kind: string, resourceVersion: string,
    onEvent: (type: string, object: any) => void, onEnd: (error?: Error) => void): KubeWatch {
    return this.client.watch(apiVersion, kind, undefined, resourceVersion, onEvent, onEnd);
  }

  close(): void {
    this.client.close();
  }
}
