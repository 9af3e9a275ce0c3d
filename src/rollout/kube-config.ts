/**
 * Which cluster and credentials the driver uses, found as kubectl finds them
 * (https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/): `--kubeconfig <file>`,
 * else the files of `KUBECONFIG` (`:`-separated, merged: the first file to define a name or `current-context`
 * wins, missing files ignored), else `~/.kube/config`, else the in-cluster service account (a CI job running in a
 * pod). `--context` picks a context instead of `current-context`.
 *
 * Credentials: a bearer token (`token`, `tokenFile`), a client certificate (`client-certificate[-data]`,
 * `client-key[-data]`), basic auth, an exec plugin (`client.authentication.k8s.io/v1` and `v1beta1`: EKS, GKE,
 * AKS, kubelogin; https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins),
 * or the `oidc` auth-provider's `id-token`. Paths in a kubeconfig are relative to its file.
 *
 * Why not `@kubernetes/client-node`: since 1.0 it is an ES module only (`"type": "module"`), which neither this
 * CommonJS (jsii) package nor jest's CommonJS runtime can `require()` on every supported Node.js; its last CommonJS
 * line (0.22) depends on the deprecated `request` package. What the driver needs is plain REST
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/), which Node's `https` does (kube-client.ts; the
 * integration harness, test/integration/_kube.ts, reads its control plane's kubeconfig through here too).
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { CliError } from '../cli/errors';

/** Where to find the kubeconfig, as on kubectl's command line. */
export interface KubeConfigOptions {
  /** `--kubeconfig`: this file only. */
  readonly kubeconfig?: string;
  /** `--context`: this context instead of the current one. */
  readonly context?: string;
  /** The environment (`KUBECONFIG`, `HOME`, `KUBERNETES_SERVICE_HOST`). */
  readonly env?: NodeJS.ProcessEnv;
}

/** TLS material and credentials of one request. */
export interface Credentials {
  readonly headers: { [name: string]: string };
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

/** A cluster and the way to authenticate to it. */
export interface KubeAccess {
  /** `https://host:port` (or `http://`). */
  readonly server: string;
  /** The context used (`in-cluster` for the service account). */
  readonly context: string;
  /** The context's namespace, if it sets one. */
  readonly namespace?: string;
  readonly ca?: string | Buffer;
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName?: string;
  /** The kubeconfig file(s) read, for messages and for `istioctl`. */
  readonly files: string[];
  /** Whether `credentials(true)` can give other credentials than the last ones (an exec plugin, a token file). */
  readonly refreshable: boolean;
  /**
   * Credentials for the next request: an exec plugin is run when none is cached, or the cached one expires within
   * 10 s (its `status.expirationTimestamp`). `refresh`: the API server answered 401 to the last ones; an exec plugin
   * is run again even if its credential has not expired (a token revoked or rotated early), as client-go's exec
   * authenticator does (k8s.io/client-go/plugin/pkg/client/auth/exec/exec.go, `maybeRefreshCreds` on a 401:
   * https://github.com/kubernetes/client-go/blob/master/plugin/pkg/client/auth/exec/exec.go). Other credentials are
   * the same every time (a token file is read again anyway).
   */
  credentials(refresh?: boolean): Promise<Credentials>;
}

const IN_CLUSTER = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The access of the context to use; throws a `CliError` (exit 2) naming what is missing or wrong. */
export function loadKubeAccess(options: KubeConfigOptions = {}): KubeAccess {
  const env = options.env ?? process.env;
  const files = kubeconfigFiles(options, env);
  if (files.length === 0) {
    if (env.KUBERNETES_SERVICE_HOST && fs.existsSync(path.join(IN_CLUSTER, 'token'))) {
      return inCluster(env);
    }
    throw new CliError('no kubeconfig: pass --kubeconfig <file>, set KUBECONFIG, or create ~/.kube/config (as kubectl reads them)');
  }
  const merged = merge(files);
  const contextName = options.context ?? merged.currentContext;
  const where = files.join(':');
  if (!contextName) {
    throw new CliError(`${where} has no current-context: pass --context <name> (contexts: ${[...merged.contexts.keys()].join(', ') || 'none'})`);
  }
  const context = merged.contexts.get(contextName);
  if (!context) {
    throw new CliError(`context '${contextName}' not found in ${where} (contexts: ${[...merged.contexts.keys()].join(', ') || 'none'})`);
  }
  const cluster = merged.clusters.get(context.value?.cluster);
  if (!cluster?.value?.server) {
    throw new CliError(`context '${contextName}' of ${where}: cluster '${context.value?.cluster}' ${cluster ? 'has no server' : 'not found'}`);
  }
  const user = context.value?.user === undefined ? undefined : merged.users.get(context.value.user);
  if (context.value?.user !== undefined && !user) {
    throw new CliError(`context '${contextName}' of ${where}: user '${context.value.user}' not found`);
  }
  const c = cluster.value;
  return {
    server: String(c.server).replace(/\/+$/, ''),
    context: contextName,
    namespace: context.value?.namespace || undefined,
    ca: dataOrFile(c['certificate-authority-data'], c['certificate-authority'], cluster.dir),
    insecureSkipTlsVerify: c['insecure-skip-tls-verify'] === true,
    tlsServerName: c['tls-server-name'],
    files,
    credentials: credentialsOf(user?.value ?? {}, user?.dir ?? '.', context.value.user ?? '(none)', c, env),
    refreshable: Boolean(user?.value?.exec || user?.value?.tokenFile),
  };
}

function kubeconfigFiles(options: KubeConfigOptions, env: NodeJS.ProcessEnv): string[] {
  if (options.kubeconfig !== undefined) {
    if (!fs.existsSync(options.kubeconfig)) {
      throw new CliError(`--kubeconfig ${options.kubeconfig}: no such file`);
    }
    return [path.resolve(options.kubeconfig)];
  }
  if (env.KUBECONFIG) {
    return env.KUBECONFIG.split(path.delimiter).filter((f) => f !== '' && fs.existsSync(f)).map((f) => path.resolve(f));
  }
  const home = path.join(env.HOME ?? os.homedir(), '.kube', 'config');
  return fs.existsSync(home) ? [home] : [];
}

/** A named entry of a kubeconfig and the directory of its file (its relative paths start there). */
interface Entry {
  readonly value: any;
  readonly dir: string;
}

interface Merged {
  readonly clusters: Map<string, Entry>;
  readonly users: Map<string, Entry>;
  readonly contexts: Map<string, Entry>;
  readonly currentContext?: string;
}

function merge(files: string[]): Merged {
  const merged = {
    clusters: new Map<string, Entry>(),
    users: new Map<string, Entry>(),
    contexts: new Map<string, Entry>(),
    currentContext: undefined as string | undefined,
  };
  for (const file of files) {
    let doc: any;
    try {
      doc = YAML.parse(fs.readFileSync(file, 'utf8')) ?? {};
    } catch (e) {
      throw new CliError(`cannot read the kubeconfig ${file}: ${(e as Error).message.split('\n')[0]}`);
    }
    const dir = path.dirname(file);
    const add = (into: Map<string, Entry>, list: unknown, field: string) => {
      for (const item of Array.isArray(list) ? list : []) {
        if (typeof item?.name === 'string' && !into.has(item.name)) {
          into.set(item.name, { value: item[field] ?? {}, dir });
        }
      }
    };
    add(merged.clusters, doc.clusters, 'cluster');
    add(merged.users, doc.users, 'user');
    add(merged.contexts, doc.contexts, 'context');
    merged.currentContext = merged.currentContext || doc['current-context'] || undefined;
  }
  return merged;
}

function dataOrFile(data: unknown, file: unknown, dir: string): Buffer | undefined {
  if (typeof data === 'string' && data !== '') {
    return Buffer.from(data, 'base64');
  }
  if (typeof file === 'string' && file !== '') {
    const resolved = path.resolve(dir, file);
    try {
      return fs.readFileSync(resolved);
    } catch (e) {
      throw new CliError(`cannot read ${resolved} (named in the kubeconfig): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return undefined;
}

function credentialsOf(user: any, dir: string, userName: string, cluster: any, env: NodeJS.ProcessEnv): (refresh?: boolean) => Promise<Credentials> {
  const cert = dataOrFile(user['client-certificate-data'], user['client-certificate'], dir);
  const key = dataOrFile(user['client-key-data'], user['client-key'], dir);
  if (user.exec) {
    return execPlugin(user.exec, dir, userName, cluster, env, cert, key);
  }
  let headers: { [name: string]: string } = {};
  if (typeof user.token === 'string' && user.token !== '') {
    headers = { Authorization: `Bearer ${user.token}` };
  } else if (typeof user.tokenFile === 'string' && user.tokenFile !== '') {
    const file = path.resolve(dir, user.tokenFile);
    // Read on every request: a projected token is rotated in place (kubectl rereads it too).
    return async () => ({ headers: { Authorization: `Bearer ${readToken(file)}` }, cert, key });
  } else if (typeof user.username === 'string') {
    headers = { Authorization: `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}` };
  } else if (user['auth-provider']) {
    const provider = user['auth-provider'];
    if (provider.name !== 'oidc' || !provider.config?.['id-token']) {
      throw new CliError(`user '${userName}' authenticates with the auth-provider '${provider.name}', which kubectl no longer supports `
        + '(since Kubernetes 1.26): use its exec credential plugin (e.g. gke-gcloud-auth-plugin, kubelogin) in the kubeconfig');
    }
    headers = { Authorization: `Bearer ${provider.config['id-token']}` };
  }
  const fixed: Credentials = { headers, cert, key };
  return async () => fixed;
}

function readToken(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new CliError(`cannot read the token file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * A client-go credential plugin: run when no credential is cached, the cached one expires within 10 s, or `refresh`
 * (a 401). Requests that need it at once share one run.
 */
function execPlugin(spec: any, dir: string, userName: string, cluster: any, env: NodeJS.ProcessEnv,
  cert?: Buffer, key?: Buffer): (refresh?: boolean) => Promise<Credentials> {
  if (typeof spec.command !== 'string' || spec.command === '') {
    throw new CliError(`user '${userName}': its exec plugin has no command`);
  }
  const apiVersion = spec.apiVersion ?? 'client.authentication.k8s.io/v1';
  // A command with a path separator is relative to the kubeconfig's directory; a bare name is looked up on PATH.
  const command = spec.command.includes('/') ? path.resolve(dir, spec.command) : spec.command;
  let cached: { credentials: Credentials; expires?: number } | undefined;
  let running: Promise<Credentials> | undefined;
  const run = async (): Promise<Credentials> => {
    const info = {
      apiVersion,
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        ...(spec.provideClusterInfo ? { cluster: { 'server': cluster.server, 'certificate-authority-data': cluster['certificate-authority-data'], 'config': cluster.extensions } } : {}),
      },
    };
    const childEnv: NodeJS.ProcessEnv = { ...env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
    for (const e of Array.isArray(spec.env) ? spec.env : []) {
      childEnv[e.name] = e.value;
    }
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(command, Array.isArray(spec.args) ? spec.args.map(String) : [], { env: childEnv, timeout: 60_000, maxBuffer: 4 * 1024 * 1024 },
        (error, out, err) => (error
          ? reject(new CliError(`the credential plugin of user '${userName}' (${command}) failed: ${String(err).trim().split('\n').pop() || error.message}`))
          : resolve(out)));
    });
    let status: any;
    try {
      status = JSON.parse(stdout).status ?? {};
    } catch {
      throw new CliError(`the credential plugin of user '${userName}' (${command}) printed no ExecCredential JSON`);
    }
    const credentials: Credentials = status.token
      ? { headers: { Authorization: `Bearer ${status.token}` }, cert, key }
      : { headers: {}, cert: status.clientCertificateData ?? cert, key: status.clientKeyData ?? key };
    const expires = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : undefined;
    cached = { credentials, expires: Number.isNaN(expires) ? undefined : expires };
    return credentials;
  };
  return async (refresh) => {
    if (refresh) {
      cached = undefined;
    }
    if (cached && (cached.expires === undefined || cached.expires > Date.now() + 10_000)) {
      return cached.credentials;
    }
    running ??= run().finally(() => {
      running = undefined;
    });
    return running;
  };
}

/** The pod's service account (https://kubernetes.io/docs/tasks/run-application/access-api-from-pod/). */
function inCluster(env: NodeJS.ProcessEnv): KubeAccess {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const namespaceFile = path.join(IN_CLUSTER, 'namespace');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    context: 'in-cluster',
    namespace: fs.existsSync(namespaceFile) ? fs.readFileSync(namespaceFile, 'utf8').trim() : undefined,
    ca: fs.readFileSync(path.join(IN_CLUSTER, 'ca.crt')),
    insecureSkipTlsVerify: false,
    files: [],
    refreshable: true,
    credentials: async () => ({ headers: { Authorization: `Bearer ${readToken(path.join(IN_CLUSTER, 'token'))}` } }),
  };
}
