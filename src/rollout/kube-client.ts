/**
 * The driver's client of the Kubernetes REST API (https://kubernetes.io/docs/reference/using-api/api-concepts/):
 * discovery of a kind's resource, get, list, server-side apply and delete. Each request is bounded in time (an API
 * server that accepts connections but does not answer must not hang a rollout), and an answer other than 2xx is a
 * `KubeApiError` naming the verb, the resource and the server's message (a 403 says which verb RBAC refused on which
 * resource).
 */
import * as http from 'http';
import * as https from 'https';
import { KubeAccess } from './kube-config';
import { WaitingTime } from './waiting-time';
import { groupOf } from '../cli/stage-diff';

/** The field manager of everything the driver applies (`kubectl get -o yaml --show-managed-fields` shows it). */
export const FIELD_MANAGER = 'mesh-release';

/** How long one request may take. */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * The pauses before each new try of a request that failed in a way that passes (then it fails): a rollout polls for
 * minutes, and one 429 (API Priority and Fairness), one 5xx (a control plane's rolling update, an etcd leader
 * election) or one connection dropped by a load balancer must not end it mid-stage, as client-go's `rest` client
 * retries them too (k8s.io/client-go/rest/request.go, `checkWait` and `IsRetryableError`).
 */
export const RETRY_DELAYS_MS = [1000, 2000, 4000];

/** Answers that may pass: throttled, the server or a proxy in front of it unavailable, or no answer (0). */
const TRANSIENT_STATUSES = new Set([0, 429, 500, 502, 503, 504]);

/** Requests done as often as sent with the same effect (a server-side apply, a get, a delete by name): tried again. */
const IDEMPOTENT_METHODS = new Set(['GET', 'PATCH', 'DELETE']);

/** A resource of the API. */
export interface Resource {
  /** `/api/v1` or `/apis/<group>/<version>`. */
  readonly base: string;
  /** The plural, e.g. `deployments`. */
  readonly plural: string;
  readonly namespaced: boolean;
  /** `deployments.apps`: the resource as RBAC and kubectl name it. */
  readonly qualified: string;
}

/** An answer of the API server other than 2xx (or no answer). */
export class KubeApiError extends Error {
  constructor(
    /** The HTTP status (0: no answer). */
    readonly status: number,
    /** The Status `reason` (`NotFound`, `Forbidden`, `Conflict`...). */
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export class KubeClient {
  /** Time spent waiting on the API server (and, added by the driver, on polls, dwells and the analysis). */
  readonly waiting = new WaitingTime();
  private readonly agent: http.Agent;
  private readonly discovered = new Map<string, Promise<Map<string, Resource>>>();
  /** Whether the server answered once: no answer before that is a wrong server (not tried again), after it a blip. */
  private reached = false;

  constructor(readonly access: KubeAccess, private readonly timeoutMs = REQUEST_TIMEOUT_MS, private readonly retryDelaysMs = RETRY_DELAYS_MS) {
    this.agent = access.server.startsWith('http:')
      ? new http.Agent({ keepAlive: true, maxSockets: 8 })
      : new https.Agent({
        keepAlive: true, maxSockets: 8, ca: access.ca, rejectUnauthorized: !access.insecureSkipTlsVerify, servername: access.tlsServerName,
      });
  }

  /** One request; resolves to the parsed JSON answer. `what` names it in errors (`patch deployments.apps "web-v2"`). */
  async request(method: string, urlPath: string, body?: unknown, contentType = 'application/json', what?: string): Promise<any> {
    return this.waiting.during(this.send(method, urlPath, body, contentType, what));
  }

  /**
   * An idempotent request that failed in a way that passes (`TRANSIENT_STATUSES`; no answer only once the server
   * answered before) is tried again after each of `retryDelaysMs`.
   */
  private async send(method: string, urlPath: string, body: unknown, contentType: string, what: string | undefined): Promise<any> {
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await this.sendAuthenticated(method, urlPath, body, contentType, what);
        this.reached = true;
        return answer;
      } catch (e) {
        const transient = e instanceof KubeApiError && TRANSIENT_STATUSES.has(e.status) && (e.status !== 0 || this.reached);
        if (e instanceof KubeApiError && e.status !== 0) {
          this.reached = true;
        }
        if (!transient || !IDEMPOTENT_METHODS.has(method) || attempt >= this.retryDelaysMs.length) {
          throw e;
        }
        await new Promise((resolve) => setTimeout(resolve, this.retryDelaysMs[attempt]));
      }
    }
  }

  /**
   * A 401 with credentials that can change (an exec plugin's token revoked or rotated before its expiry, a token file
   * rotated) is retried once with fresh ones: the API server refused to authenticate it, so it did nothing.
   */
  private async sendAuthenticated(method: string, urlPath: string, body: unknown, contentType: string, what: string | undefined): Promise<any> {
    try {
      return await this.sendOnce(method, urlPath, body, contentType, what, false);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 401 && this.access.refreshable) {
        return this.sendOnce(method, urlPath, body, contentType, what, true);
      }
      throw e;
    }
  }

  private async sendOnce(method: string, urlPath: string, body: unknown, contentType: string, what: string | undefined,
    refresh: boolean): Promise<any> {
    const credentials = await this.access.credentials(refresh);
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const described = what ?? `${method} ${urlPath}`;
    return new Promise((resolve, reject) => {
      const client = this.access.server.startsWith('http:') ? http : https;
      const req = client.request(`${this.access.server}${urlPath}`, {
        method,
        agent: this.agent,
        cert: credentials.cert,
        key: credentials.key,
        timeout: this.timeoutMs,
        headers: {
          ...credentials.headers,
          'Accept': 'application/json',
          'User-Agent': 'mesh-release',
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
            // not JSON: the text itself
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve(parsed);
          } else {
            const message = typeof parsed === 'object' && parsed?.message ? parsed.message : String(text).trim().slice(0, 300) || res.statusMessage;
            reject(new KubeApiError(status, parsed?.reason, `${described}: ${status} ${parsed?.reason ?? res.statusMessage ?? ''}: ${message}`));
          }
        });
        res.on('error', (e) => reject(new KubeApiError(0, undefined, `${described}: ${e.message}`)));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer from ${this.access.server} within ${this.timeoutMs / 1000} s`)));
      req.on('error', (e) => reject(new KubeApiError(0, undefined, `${described}: cannot reach the API server ${this.access.server} `
        + `(context ${this.access.context}): ${e.message}`)));
      req.end(payload);
    });
  }

  /** The resource serving `kind` at `apiVersion` (API discovery, cached per group version). */
  async resourceOf(apiVersion: string, kind: string): Promise<Resource> {
    let found = this.discovered.get(apiVersion);
    if (!found) {
      const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      found = this.request('GET', base, undefined, undefined, `discover ${apiVersion}`).then((list) => new Map(
        (list?.resources ?? []).filter((r: any) => !String(r.name).includes('/')).map((r: any) => [r.kind, {
          base,
          plural: r.name,
          namespaced: r.namespaced === true,
          qualified: groupOf(apiVersion) === '' ? r.name : `${r.name}.${groupOf(apiVersion)}`,
        }]),
      ));
      found.catch(() => this.discovered.delete(apiVersion));
      this.discovered.set(apiVersion, found);
    }
    let resources: Map<string, Resource>;
    try {
      resources = await found;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) {
        throw new KubeApiError(404, 'NotFound', `the API server does not serve ${apiVersion} (is its CRD installed?)`);
      }
      throw e;
    }
    const r = resources.get(kind);
    if (!r) {
      throw new KubeApiError(404, 'NotFound', `the API server serves no kind ${kind} in ${apiVersion} (is its CRD installed?)`);
    }
    return r;
  }

  /** The path of an object (or, without `name`, of the collection). */
  async pathOf(apiVersion: string, kind: string, namespace: string | undefined, name?: string): Promise<{ path: string; resource: Resource }> {
    const r = await this.resourceOf(apiVersion, kind);
    const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return { path: `${r.base}${ns}/${r.plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`, resource: r };
  }

  /** The object, or undefined when it does not exist. */
  async find(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<any | undefined> {
    const { path, resource } = await this.pathOf(apiVersion, kind, namespace, name);
    try {
      return await this.request('GET', path, undefined, undefined, describe('get', resource, name, namespace));
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) {
        return undefined;
      }
      throw e;
    }
  }

  /** The objects of a kind in a namespace, optionally by label selector (`app=web,version=v2`). */
  async list(apiVersion: string, kind: string, namespace: string | undefined, labelSelector?: string): Promise<any[]> {
    const { path, resource } = await this.pathOf(apiVersion, kind, namespace);
    const query = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
    const answer = await this.request('GET', `${path}${query}`, undefined, undefined, describe('list', resource, undefined, namespace));
    return answer?.items ?? [];
  }

  /**
   * Server-side apply of one object, field manager `mesh-release`, conflicts forced: the stage's YAML is the desired
   * state of every field it sets, as with `kubectl apply` (which overwrites too), and each transition was checked by
   * the safety check first. Without force, a field last written by someone else (`kubectl scale`, `kubectl edit`,
   * an earlier `kubectl apply` of the runbook) would stop the release mid-way with a conflict; with it, the stage's
   * value wins and the other manager loses the field
   * (https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts).
   */
  async apply(object: any, namespace: string | undefined, dryRun = false): Promise<any> {
    const ns = object.metadata?.namespace ?? namespace;
    const { path, resource } = await this.pathOf(object.apiVersion, object.kind, ns, object.metadata?.name);
    const body = resource.namespaced && object.metadata?.namespace === undefined && ns !== undefined
      ? { ...object, metadata: { ...object.metadata, namespace: ns } } : object;
    return this.request('PATCH', `${path}?fieldManager=${FIELD_MANAGER}&force=true&fieldValidation=Strict${dryRun ? '&dryRun=All' : ''}`, body, 'application/apply-patch+yaml',
      `${dryRun ? 'dry run: ' : ''}${describe('patch', resource, object.metadata?.name, resource.namespaced ? ns : undefined)}`);
  }

  /**
   * Deletes an object by name, its dependents in the background; false when it was not there. A dry run says so in
   * the body's DeleteOptions: the API server reads the query's options only when the request has no body, so a
   * `?dryRun=All` next to a body would delete for real (kubernetes/kubernetes
   * staging/src/k8s.io/apiserver/pkg/endpoints/handlers/delete.go, `DeleteResource`).
   */
  async delete(apiVersion: string, kind: string, namespace: string | undefined, name: string, dryRun = false): Promise<boolean> {
    const { path, resource } = await this.pathOf(apiVersion, kind, namespace, name);
    const options = { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background', ...(dryRun ? { dryRun: ['All'] } : {}) };
    try {
      await this.request('DELETE', path, options, undefined,
        `${dryRun ? 'dry run: ' : ''}${describe('delete', resource, name, resource.namespaced ? namespace : undefined)}`);
      return true;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) {
        return false;
      }
      throw e;
    }
  }

  /** A create (POST) of an object; rejects with a 409 `AlreadyExists` when it exists. */
  async create(object: any): Promise<any> {
    const ns = object.metadata?.namespace;
    const { path, resource } = await this.pathOf(object.apiVersion, object.kind, ns);
    return this.request('POST', path, object, undefined, describe('create', resource, object.metadata?.name, ns));
  }

  /** A replace (PUT) with the object's `resourceVersion`: rejects with a 409 `Conflict` when someone wrote it meanwhile. */
  async replace(object: any): Promise<any> {
    const ns = object.metadata?.namespace;
    const { path, resource } = await this.pathOf(object.apiVersion, object.kind, ns, object.metadata?.name);
    return this.request('PUT', path, object, undefined, describe('update', resource, object.metadata?.name, ns));
  }

  close(): void {
    this.agent.destroy();
  }
}

/** `patch deployments.apps "web-v2" in namespace "shop"`: the verb and resource as RBAC names them. */
function describe(verb: string, resource: Resource, name: string | undefined, namespace: string | undefined): string {
  return `${verb} ${resource.qualified}${name === undefined ? '' : ` "${name}"`}${namespace ? ` in namespace "${namespace}"` : ''}`;
}
