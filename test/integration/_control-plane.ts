/**
 * A real Kubernetes control plane for a test file: etcd and kube-apiserver (and, when asked, kube-controller-manager)
 * from `KUBEBUILDER_ASSETS` (the envtest convention; ../shared/envtest/README.md says what they need), on free
 * loopback ports, with the Istio and Gateway API CRDs the library validates against installed.
 *
 * Everything it starts is stopped by `stop()` (SIGTERM, then SIGKILL after a timeout), by the exit of the test
 * process, and — when that process is killed outright — by a watchdog that outlives it by at most a second.
 * Each instance has its own ports and directory: jest's parallel workers can each start one.
 */
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { Kube } from './_kube';

const ROOT = path.join(__dirname, '..', '..');
/** The folder with the CRD files (`istio/`, `gateway-api/`): MESH_RELEASE_SHARED (set by .ci/run), else ../shared. */
const SHARED = process.env.MESH_RELEASE_SHARED ?? path.join(ROOT, '..', 'shared');
/** The CRDs of the versions the library's schemas come from (scripts/import-crds.ts). */
export const ISTIO_CRDS = path.join(SHARED, 'istio', 'crd-all.gen.yaml');
export const GATEWAY_API_CRDS = { standard: path.join(SHARED, 'gateway-api', 'standard-install.yaml'), experimental: path.join(SHARED, 'gateway-api', 'experimental-install.yaml') };

const run = promisify(execFile);

/** The binaries' folder, or undefined when integration tests cannot run here. */
export function assetsDir(): string | undefined {
  const dir = process.env.KUBEBUILDER_ASSETS;
  return dir && fs.existsSync(path.join(dir, 'kube-apiserver')) ? dir : undefined;
}

/**
 * `describe` when the control plane's binaries are there; otherwise, outside CI, a skipped suite with one line
 * saying how to enable it. In CI (CI=true) a missing control plane is an error: the run fails.
 */
export function describeWithControlPlane(name: string, body: () => void): void {
  if (assetsDir()) {
    describe(name, body);
    return;
  }
  const how = 'set KUBEBUILDER_ASSETS to a folder with etcd, kube-apiserver and kube-controller-manager '
    + '(e.g. export KUBEBUILDER_ASSETS=$(cd ../shared/envtest/k8s-1.32.13-linux-amd64 && pwd))';
  if (process.env.CI === 'true' || process.env.CI === '1') {
    describe(name, () => {
      test('a control plane is available', () => {
        throw new Error(`CI: the integration tests need a control plane: ${how}`);
      });
    });
    return;
  }
  console.log(`skipping the integration suite "${name}": ${how}`);
  describe.skip(name, body);
}

export interface ControlPlaneOptions {
  /** Start kube-controller-manager (Deployments make pods, HPAs, EndpointSlices, garbage collection). */
  readonly controllers?: boolean;
  /** The Gateway API channel to install. @default 'standard' */
  readonly gatewayApiChannel?: 'standard' | 'experimental';
}

interface Started {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
}

export class ControlPlane {
  /** Starts a control plane; rejects (after stopping what it started) when a part does not come up. */
  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const assets = assetsDir();
    if (!assets) {
      throw new Error('KUBEBUILDER_ASSETS is not set to a folder with kube-apiserver');
    }
    const cp = new ControlPlane(assets, fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-release-cp-')));
    try {
      await cp.boot(options);
      return cp;
    } catch (e) {
      const logs = cp.processes.map((p) => `--- ${p.name} (${p.log}):\n${tail(p.log)}`).join('\n');
      await cp.stop();
      throw new Error(`the control plane did not start: ${(e as Error).message}\n${logs}`);
    }
  }

  /** A kubeconfig file for kubectl and the runbooks (KUBECONFIG). */
  readonly kubeconfig: string;
  /** The API client of the tests. */
  kube!: Kube;
  private readonly processes: Started[] = [];
  private watchdog?: ChildProcess;
  private readonly onExit: () => void;
  private stopped = false;

  private constructor(private readonly assets: string, readonly dir: string) {
    this.kubeconfig = path.join(dir, 'kubeconfig');
    this.onExit = () => this.killNow();
    process.on('exit', this.onExit);
  }

  /** Environment for a child process that talks to this cluster (kubectl, runbooks). */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { ...process.env, KUBECONFIG: this.kubeconfig, ...extra };
  }

  /** `kubectl <args>` against this cluster; rejects with its stderr on a non-zero exit. */
  async kubectl(args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile('kubectl', args, { env: this.env(), maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`kubectl ${args.join(' ')}: ${stderr || error.message}`));
        } else {
          resolve(stdout);
        }
      });
      if (input !== undefined) {
        child.stdin!.end(input);
      }
    });
  }

  /** Creates namespaces (and waits for their `default` ServiceAccount when the controllers run). */
  async createNamespaces(...names: string[]): Promise<void> {
    await Promise.all(names.map((name) => this.kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })));
    if (this.processes.some((p) => p.name === 'kube-controller-manager')) {
      await Promise.all(names.map((ns) => until(`the default ServiceAccount of ${ns}`, 30_000,
        async () => (await this.kube.find('v1', 'ServiceAccount', ns, 'default')) !== undefined)));
    }
  }

  private async boot(options: ControlPlaneOptions): Promise<void> {
    const d = (f: string) => path.join(this.dir, f);
    const [etcdClient, etcdPeer, apiPort, kcmPort] = await freePorts(4);
    const token = `t${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    fs.writeFileSync(d('tokens.csv'), `${token},admin,admin,system:masters\n`);
    await run('openssl', ['genrsa', '-out', d('sa.key'), '2048']);
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', d('serving.key'), '-out', d('serving.crt'),
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
    const ca = fs.readFileSync(d('serving.crt'), 'utf8');
    const server = `https://127.0.0.1:${apiPort}`;
    fs.writeFileSync(this.kubeconfig, [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: envtest, cluster: {server: "${server}", certificate-authority-data: ${Buffer.from(ca).toString('base64')}}}]`,
      `users: [{name: admin, user: {token: ${token}}}]`,
      'contexts: [{name: envtest, context: {cluster: envtest, user: admin}}]',
      'current-context: envtest',
      '',
    ].join('\n'));
    this.kube = new Kube(this.kubeconfig);

    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    this.launch('etcd', ['--data-dir', d('etcd'), '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
      '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--unsafe-no-fsync']);
    this.launch('kube-apiserver', ['--etcd-servers', etcdUrl, '--bind-address', '127.0.0.1', '--secure-port', String(apiPort),
      '--tls-cert-file', d('serving.crt'), '--tls-private-key-file', d('serving.key'), '--token-auth-file', d('tokens.csv'),
      '--authorization-mode', 'RBAC', '--service-account-issuer', 'https://kubernetes.default.svc.cluster.local',
      '--service-account-key-file', d('sa.key'), '--service-account-signing-key-file', d('sa.key'),
      '--service-cluster-ip-range', '10.0.0.0/16', '--endpoint-reconciler-type', 'none']);
    this.startWatchdog();
    await until('kube-apiserver /readyz', 60_000, async () => (await this.kube.request('GET', '/readyz').catch(() => '')) === 'ok', () => this.exited());

    const crds = [ISTIO_CRDS, GATEWAY_API_CRDS[options.gatewayApiChannel ?? 'standard']];
    const controllers = options.controllers ? this.startControllers(kcmPort) : undefined;
    await this.kubectl(['apply', '--server-side', '--force-conflicts', ...crds.flatMap((f) => ['-f', f])]);
    await this.kubectl(['wait', '--for', 'condition=Established', 'crd', '--all', '--timeout=60s']);
    await controllers;
  }

  private async startControllers(port: number): Promise<void> {
    this.launch('kube-controller-manager', ['--kubeconfig', this.kubeconfig, '--controllers', '*', '--leader-elect=false',
      '--bind-address', '127.0.0.1', '--secure-port', String(port),
      '--service-account-private-key-file', path.join(this.dir, 'sa.key'), '--root-ca-file', path.join(this.dir, 'serving.crt'),
      '--use-service-account-credentials', '--feature-gates', 'WatchListClient=false',
      '--horizontal-pod-autoscaler-sync-period', '1s', '--concurrent-deployment-syncs', '10', '--concurrent-replicaset-syncs', '10']);
    this.startWatchdog();
    // The ServiceAccount controller creates `default` in each namespace: the controllers are running.
    await until('kube-controller-manager (the default ServiceAccount)', 60_000,
      async () => (await this.kube.find('v1', 'ServiceAccount', 'default', 'default')) !== undefined, () => this.exited());
  }

  private launch(name: string, args: string[]): void {
    const log = path.join(this.dir, `${name}.log`);
    const fd = fs.openSync(log, 'a');
    const child = spawn(path.join(this.assets, name), args, { stdio: ['ignore', fd, fd], cwd: this.dir });
    fs.closeSync(fd);
    this.processes.push({ name, child, log });
  }

  /** A process that kills ours once this test process is gone, however it ended (even SIGKILL). */
  private startWatchdog(): void {
    this.watchdog?.kill('SIGKILL');
    const pids = this.processes.map((p) => p.child.pid).filter((p) => p !== undefined).join(' ');
    this.watchdog = spawn('bash', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -9 ${pids} 2>/dev/null; rm -rf '${this.dir}'`], {
      stdio: 'ignore', detached: true,
    });
    this.watchdog.unref();
  }

  private exited(): string | undefined {
    const dead = this.processes.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    return dead && `${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode})`;
  }

  /** Stops everything (controllers first, etcd last), waits for the processes to exit, removes the directory. */
  async stop(): Promise<void> {
    if (this.stopped) {
      return;
    }
    this.stopped = true;
    this.kube?.close();
    for (const p of [...this.processes].reverse()) {
      await stopProcess(p.child, 15_000);
    }
    this.watchdog?.kill('SIGKILL');
    process.removeListener('exit', this.onExit);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private killNow(): void {
    for (const p of this.processes) {
      p.child.kill('SIGKILL');
    }
    this.watchdog?.kill('SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** SIGTERM, then SIGKILL after `timeoutMs`; resolves when the process has exited. */
function stopProcess(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** `n` distinct free loopback ports (held open together while chosen, so they differ). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Polls `check` every 200 ms until it holds; rejects after `timeoutMs` or as soon as `failed()` says why. */
export async function until(
  what: string, timeoutMs: number, check: () => Promise<boolean>, failed: () => string | undefined = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) {
      return;
    }
    const why = failed();
    if (why) {
      throw new Error(`waiting for ${what}: ${why}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`waiting for ${what}: not after ${timeoutMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}
