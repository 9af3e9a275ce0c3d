/**
 * A small client of the Kubernetes REST API for the integration harness: requests, server-side apply (also as a
 * dry run with strict field validation), list and watch.
 *
 * Why not the official `@kubernetes/client-node`: since 1.0 it is an ES module only, and jest runs the tests as
 * CommonJS (test/_transform.js); the handful of calls the harness makes are plain REST
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/), so Node's `https` does them.
 */
import * as https from 'https';

/** A resource of the API: its path segment and whether it is namespaced. */
export interface Resource {
  /** `/api/v1` or `/apis/<group>/<version>`. */
  readonly base: string;
  /** The plural, e.g. `pods`. */
  readonly plural: string;
  readonly namespaced: boolean;
}

/** An answer of the API server other than 2xx. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly body: any, what: string) {
    super(`${what}: HTTP ${status}: ${typeof body === 'object' && body?.message ? body.message : JSON.stringify(body)}`);
  }
}

/** The resources the harness and the tests use, by `apiVersion/kind`. */
const RESOURCES: { [apiVersionKind: string]: Resource } = {};
function register(apiVersion: string, kind: string, plural: string, namespaced = true): void {
  RESOURCES[`${apiVersion}/${kind}`] = { base: apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`, plural, namespaced };
}
register('v1', 'Namespace', 'namespaces', false);
register('v1', 'Node', 'nodes', false);
register('v1', 'Pod', 'pods');
register('v1', 'Service', 'services');
register('v1', 'ServiceAccount', 'serviceaccounts');
register('apps/v1', 'Deployment', 'deployments');
register('apps/v1', 'ReplicaSet', 'replicasets');
register('autoscaling/v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers');
register('policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets');
register('discovery.k8s.io/v1', 'EndpointSlice', 'endpointslices');
register('coordination.k8s.io/v1', 'Lease', 'leases');
register('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', false);
register('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicy', 'validatingadmissionpolicies', false);
register('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding', 'validatingadmissionpolicybindings', false);
for (const version of ['v1', 'v1beta1', 'v1alpha3']) {
  register(`networking.istio.io/${version}`, 'VirtualService', 'virtualservices');
  register(`networking.istio.io/${version}`, 'DestinationRule', 'destinationrules');
  register(`networking.istio.io/${version}`, 'Gateway', 'gateways');
  register(`networking.istio.io/${version}`, 'ServiceEntry', 'serviceentries');
  register(`networking.istio.io/${version}`, 'Sidecar', 'sidecars');
  register(`security.istio.io/${version}`, 'PeerAuthentication', 'peerauthentications');
  register(`security.istio.io/${version}`, 'AuthorizationPolicy', 'authorizationpolicies');
  register(`security.istio.io/${version}`, 'RequestAuthentication', 'requestauthentications');
}
for (const version of ['v1', 'v1beta1']) {
  register(`gateway.networking.k8s.io/${version}`, 'HTTPRoute', 'httproutes');
  register(`gateway.networking.k8s.io/${version}`, 'Gateway', 'gateways');
  register(`gateway.networking.k8s.io/${version}`, 'GRPCRoute', 'grpcroutes');
  register(`gateway.networking.k8s.io/${version}`, 'ReferenceGrant', 'referencegrants');
}

/** The resource of an object's `apiVersion` and `kind`; throws for one the harness does not know. */
export function resourceOf(apiVersion: string, kind: string): Resource {
  const r = RESOURCES[`${apiVersion}/${kind}`];
  if (!r) {
    throw new Error(`the integration harness does not know ${apiVersion} ${kind}: add it to test/integration/_kube.ts`);
  }
  return r;
}

/** The URL path of a collection (`name` undefined) or of one object. */
export function pathOf(r: Resource, namespace: string | undefined, name?: string): string {
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${r.base}${ns}/${r.plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

/** Field manager of everything the harness applies. */
const FIELD_MANAGER = 'mesh-release-integration';

export class Kube {
  private readonly agent: https.Agent;

  constructor(readonly server: string, private readonly token: string, ca: string) {
    this.agent = new https.Agent({ ca, keepAlive: true, maxSockets: 16 });
  }

  /** One request; resolves to the parsed JSON answer, throws ApiError for a non-2xx answer. */
  request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<any> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      const req = https.request(`${this.server}${path}`, {
        method,
        agent: this.agent,
        headers: {
          Authorization: `Bearer ${this.token}`,
          Accept: 'application/json',
          ...(payload ? { 'Content-Type': contentType, 'Content-Length': payload.length } : {}),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: any = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON (e.g. /readyz): the text itself
          }
          if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) {
            resolve(parsed);
          } else {
            reject(new ApiError(res.statusCode ?? 0, parsed, `${method} ${path}`));
          }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<any> {
    return this.request('GET', pathOf(resourceOf(apiVersion, kind), namespace, name));
  }

  /** The object, or undefined when it does not exist. */
  async find(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<any | undefined> {
    try {
      return await this.get(apiVersion, kind, namespace, name);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        return undefined;
      }
      throw e;
    }
  }

  async list(apiVersion: string, kind: string, namespace?: string, query = ''): Promise<{ items: any[]; resourceVersion: string }> {
    const answer = await this.request('GET', `${pathOf(resourceOf(apiVersion, kind), namespace)}${query ? `?${query}` : ''}`);
    return { items: answer.items ?? [], resourceVersion: answer.metadata?.resourceVersion };
  }

  /**
   * Server-side apply of one object (`kubectl apply --server-side --force-conflicts`); with `dryRun`, the API
   * server runs every admission and validation step and stores nothing. Field validation is strict: an unknown or
   * duplicate field is an error, as with `kubectl apply --validate=strict`.
   */
  apply(object: any, options: { dryRun?: boolean; namespace?: string } = {}): Promise<any> {
    const r = resourceOf(object.apiVersion, object.kind);
    const namespace = object.metadata?.namespace ?? options.namespace;
    const query = `fieldManager=${FIELD_MANAGER}&force=true&fieldValidation=Strict${options.dryRun ? '&dryRun=All' : ''}`;
    return this.request('PATCH', `${pathOf(r, namespace, object.metadata?.name)}?${query}`, object, 'application/apply-patch+yaml');
  }

  /** A JSON merge patch of an object or of its status (`subresource` 'status'). */
  mergePatch(apiVersion: string, kind: string, namespace: string | undefined, name: string, patch: unknown, subresource?: string): Promise<any> {
    const path = `${pathOf(resourceOf(apiVersion, kind), namespace, name)}${subresource ? `/${subresource}` : ''}`;
    return this.request('PATCH', path, patch, 'application/merge-patch+json');
  }

  create(object: any, subresourcePath?: string): Promise<any> {
    const r = resourceOf(object.apiVersion, object.kind);
    return this.request('POST', subresourcePath ?? pathOf(r, object.metadata?.namespace), object);
  }

  /** Deletes an object (404 is not an error). */
  async delete(apiVersion: string, kind: string, namespace: string | undefined, name: string, gracePeriodSeconds?: number): Promise<void> {
    const query = gracePeriodSeconds === undefined ? '' : `?gracePeriodSeconds=${gracePeriodSeconds}`;
    try {
      await this.request('DELETE', `${pathOf(resourceOf(apiVersion, kind), namespace, name)}${query}`);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) {
        throw e;
      }
    }
  }

  /**
   * Watches a collection from `resourceVersion`; calls `onEvent` for each event until `stop()` or the server ends
   * the watch (then `onEnd`, so the caller lists and watches again).
   */
  watch(
    apiVersion: string, kind: string, resourceVersion: string, onEvent: (type: string, object: any) => void, onEnd: (error?: Error) => void,
  ): { stop: () => void } {
    const r = resourceOf(apiVersion, kind);
    let stopped = false;
    const req = https.request(`${this.server}${pathOf(r, undefined)}?watch=true&allowWatchBookmarks=true&resourceVersion=${resourceVersion}`, {
      agent: this.agent,
      headers: { Authorization: `Bearer ${this.token}`, Accept: 'application/json' },
    }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        onEnd(new Error(`watch ${r.plural}: HTTP ${res.statusCode}`));
        return;
      }
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line.trim() && !stopped) {
            const event = JSON.parse(line);
            onEvent(event.type, event.object);
          }
        }
      });
      res.on('end', () => stopped || onEnd());
      res.on('error', (e) => stopped || onEnd(e));
    });
    req.on('error', (e) => stopped || onEnd(e));
    req.end();
    return {
      stop: () => {
        stopped = true;
        req.destroy();
      },
    };
  }

  close(): void {
    this.agent.destroy();
  }
}
