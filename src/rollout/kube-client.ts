/**
 * The driver's client of the Kubernetes REST API (https://kubernetes.io/docs/reference/using-api/api-concepts/):
 * discovery of a kind's resource, get, list, server-side apply, merge patches (of an object or of its `status`),
 * create, replace, delete and watch. Each request is bounded in time (an API server that accepts connections but does
 * not answer must not hang a rollout), and an answer other than 2xx is a `KubeApiError` naming the verb, the resource
 * and the server's message (a 403 says which verb RBAC refused on which resource). The integration harness
 * (test/integration/_kube.ts) uses it too, with its own field manager.
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

/** How a client talks to its cluster, beyond the access. */
export interface KubeClientOptions {
  /** How long one request may take (a watch runs until stopped or ended by the server). @default REQUEST_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** The field manager of what `apply` writes. @default FIELD_MANAGER ('mesh-release') */
  readonly fieldManager?: string;
  /** The pauses before each new try of a request that failed in a way that passes. @default RETRY_DELAYS_MS */
  readonly retryDelaysMs?: readonly number[];
}

/** A watch under way. */
export interface KubeWatch {
  /** Ends it: no event and no end are reported after. */
  stop(): void;
}

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
  /** The field manager of what `apply` writes. */
  readonly fieldManager: string;
  private readonly timeoutMs: number;
  private readonly retryDelaysMs: readonly number[];
  private readonly agent: http.Agent;
  /** Watches hold their connection as long as they run: none of them takes one of the requests' sockets. */
  private readonly watchAgent: http.Agent;
  private readonly discovered = new Map<string, Promise<Map<string, Resource>>>();
  /** Whether the server answered once: no answer before that is a wrong server (not tried again), after it a blip. */
  private reached = false;

  constructor(readonly access: KubeAccess, options: KubeClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    this.fieldManager = options.fieldManager ?? FIELD_MANAGER;
    this.retryDelaysMs = options.retryDelaysMs ?? RETRY_DELAYS_MS;
    this.agent = agentOf(access, { keepAlive: true, maxSockets: 8 });
    this.watchAgent = agentOf(access, { keepAlive: false });
  }

  /** One request; resolves to the parsed JSON answer. `what` names it in errors (`patch deployments.apps "web-v2"`). */
  async request(method: string, urlPath: string, body?: unknown, contentType = 'application/json', what?: string): Promise<any> {
    return this.waiting.during(this.send(method, urlPath, body, contentType, what ?? `${method} ${urlPath}`));
  }

  /**
   * An idempotent request that failed in a way that passes (`TRANSIENT_STATUSES`; no answer only once the server
   * answered before) is tried again after each of `retryDelaysMs`.
   */
  private async send(method: string, urlPath: string, body: unknown, contentType: string, described: string): Promise<any> {
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await this.sendAuthenticated(method, urlPath, body, contentType, described);
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
  private async sendAuthenticated(method: string, urlPath: string, body: unknown, contentType: string, described: string): Promise<any> {
    try {
      return await this.sendOnce(method, urlPath, body, contentType, described, false);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 401 && this.access.refreshable) {
        return this.sendOnce(method, urlPath, body, contentType, described, true);
      }
      throw e;
    }
  }

  private async sendOnce(method: string, urlPath: string, body: unknown, contentType: string, described: string, refresh: boolean): Promise<any> {
    const res = await this.open(method, urlPath, body, contentType, described, refresh);
    const text = await textOf(res, described);
    if (!succeeded(res)) {
      throw errorOf(res, text, described);
    }
    return parsedOf(text);
  }

  /**
   * Sends one request; resolves to the response once its head arrives (the body is the caller's to read). A watch
   * (`started` given, told of the request as soon as it exists) has no timeout and its own agent.
   */
  private async open(method: string, urlPath: string, body: unknown, contentType: string, described: string, refresh: boolean,
    started?: (request: http.ClientRequest) => void): Promise<http.IncomingMessage> {
    const credentials = await this.access.credentials(refresh);
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const client = this.access.server.startsWith('http:') ? http : https;
      let response: http.IncomingMessage | undefined;
      const req = client.request(`${this.access.server}${urlPath}`, {
        method,
        agent: started ? this.watchAgent : this.agent,
        cert: credentials.cert,
        key: credentials.key,
        timeout: started ? undefined : this.timeoutMs,
        headers: {
          ...credentials.headers,
          'Accept': 'application/json',
          'User-Agent': 'mesh-release',
          ...(payload ? { 'Content-Type': contentType, 'Content-Length': payload.length } : {}),
        },
      }, (res) => {
        response = res;
        resolve(res);
      });
      req.on('timeout', () => {
        const error = new Error(`no answer from ${this.access.server} within ${this.timeoutMs / 1000} s`);
        req.destroy(error);
        // An answer that stops half-way says so too (its body would end with a bare "aborted").
        response?.destroy(error);
      });
      req.on('error', (e) => reject(new KubeApiError(0, undefined, `${described}: cannot reach the API server ${this.access.server} `
        + `(context ${this.access.context}): ${e.message}`)));
      started?.(req);
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

  /** The object; rejects with a 404 `NotFound` when it does not exist. */
  async get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<any> {
    const { path, resource } = await this.pathOf(apiVersion, kind, namespace, name);
    return this.request('GET', path, undefined, undefined, describe('get', resource, name, namespace));
  }

  /** The object, or undefined when it does not exist (a kind the server does not serve is an error). */
  async find(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<any | undefined> {
    await this.resourceOf(apiVersion, kind);
    try {
      return await this.get(apiVersion, kind, namespace, name);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) {
        return undefined;
      }
      throw e;
    }
  }

  /** The objects of a kind in a namespace, optionally by label selector (`app=web,version=v2`). */
  async list(apiVersion: string, kind: string, namespace: string | undefined, labelSelector?: string): Promise<any[]> {
    return (await this.listCollection(apiVersion, kind, namespace, labelSelector)).items;
  }

  /**
   * The objects of a kind (in a namespace; a namespaced kind without one: in all), optionally by label selector, and
   * the list's `resourceVersion`: where a `watch` picks up.
   */
  async listCollection(apiVersion: string, kind: string, namespace: string | undefined,
    labelSelector?: string): Promise<{ items: any[]; resourceVersion: string }> {
    const { path, resource } = await this.pathOf(apiVersion, kind, namespace);
    const query = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
    const answer = await this.request('GET', `${path}${query}`, undefined, undefined, describe('list', resource, undefined, namespace));
    return { items: answer?.items ?? [], resourceVersion: answer?.metadata?.resourceVersion };
  }

  /**
   * Watches a kind (in a namespace; a namespaced kind without one: in all) from `resourceVersion` (a list's), with
   * bookmarks: `onEvent` gets each event as the server sends it (`ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK`, and
   * `ERROR` with a Status, e.g. 410 once `resourceVersion` is too old: list again), until `stop()` or the end of the
   * watch: then `onEnd`, with the error if there was one (an answer other than 200, a line that is not an event, a
   * broken connection). The server ends a watch after a while (kube-apiserver's `--min-request-timeout`): the caller
   * lists and watches again (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes).
   */
  watch(apiVersion: string, kind: string, namespace: string | undefined, resourceVersion: string,
    onEvent: (type: string, object: any) => void, onEnd: (error?: Error) => void): KubeWatch {
    let stopped = false;
    let request: http.ClientRequest | undefined;
    const stop = () => {
      stopped = true;
      request?.destroy();
    };
    const end = (error?: Error) => {
      if (!stopped) {
        stop();
        onEnd(error);
      }
    };
    /** An exception of `onEvent` ends the watch with it (thrown out of the stream, it would end the process). */
    const deliver = (event: any) => {
      try {
        onEvent(event.type, event.object);
      } catch (e) {
        end(e as Error);
      }
    };
    const run = async () => {
      const { path, resource } = await this.pathOf(apiVersion, kind, namespace);
      const described = describe('watch', resource, undefined, namespace);
      const query = `?watch=true&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(resourceVersion)}`;
      const res = await this.open('GET', `${path}${query}`, undefined, 'application/json', described, false, (r) => {
        request = r;
      });
      if (!succeeded(res)) {
        throw errorOf(res, await textOf(res, described), described);
      }
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while (!stopped && (newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          const event = line === '' ? undefined : parsedOf(line);
          if (event !== undefined && (event === null || typeof event !== 'object' || typeof event.type !== 'string')) {
            end(new KubeApiError(0, undefined, `${described}: not a watch event: ${line.slice(0, 200)}`));
          } else if (event !== undefined) {
            deliver(event);
          }
        }
      });
      res.on('error', (e) => end(new KubeApiError(0, undefined, `${described}: ${e.message}`)));
      res.on('close', () => end());
    };
    run().catch(end);
    return { stop };
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
    return this.request('PATCH', `${path}?fieldManager=${encodeURIComponent(this.fieldManager)}&force=true&fieldValidation=Strict${dryRun ? '&dryRun=All' : ''}`, body, 'application/apply-patch+yaml',
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

  /**
   * A JSON merge patch (https://www.rfc-editor.org/rfc/rfc7386) of an object or, with `subresource`, of that
   * subresource: `status` is written through its own (a patch of the object leaves it alone when the kind has it).
   */
  async mergePatch(apiVersion: string, kind: string, namespace: string | undefined, name: string, patch: unknown,
    subresource?: string): Promise<any> {
    const { path, resource } = await this.pathOf(apiVersion, kind, namespace, name);
    return this.request('PATCH', `${path}${subresource ? `/${encodeURIComponent(subresource)}` : ''}`, patch, 'application/merge-patch+json',
      describe(subresource ? `patch the ${subresource} of` : 'patch', resource, name, resource.namespaced ? namespace : undefined));
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
    this.watchAgent.destroy();
  }
}

function agentOf(access: KubeAccess, options: http.AgentOptions): http.Agent {
  return access.server.startsWith('http:') ? new http.Agent(options) : new https.Agent({
    ...options, ca: access.ca, rejectUnauthorized: !access.insecureSkipTlsVerify, servername: access.tlsServerName,
  });
}

/** The whole body of a response. */
function textOf(res: http.IncomingMessage, described: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', (e) => reject(new KubeApiError(0, undefined, `${described}: ${e.message}`)));
  });
}

function succeeded(res: http.IncomingMessage): boolean {
  return (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
}

/** The JSON of an answer, or its text when it is not JSON (`/readyz`), or undefined when empty. */
function parsedOf(text: string): any {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

/** The error of an answer other than 2xx: its Status's reason and message, else its text. */
function errorOf(res: http.IncomingMessage, text: string, described: string): KubeApiError {
  const status = res.statusCode ?? 0;
  const parsed = parsedOf(text);
  const message = typeof parsed === 'object' && parsed?.message ? parsed.message : String(text).trim().slice(0, 300) || res.statusMessage;
  return new KubeApiError(status, parsed?.reason, `${described}: ${status} ${parsed?.reason ?? res.statusMessage ?? ''}: ${message}`);
}

/** `patch deployments.apps "web-v2" in namespace "shop"`: the verb and resource as RBAC names them. */
function describe(verb: string, resource: Resource, name: string | undefined, namespace: string | undefined): string {
  return `${verb} ${resource.qualified}${name === undefined ? '' : ` "${name}"`}${namespace ? ` in namespace "${namespace}"` : ''}`;
}
