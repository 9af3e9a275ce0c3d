/**
 * A real Prometheus for a test file (Debian's `prometheus` package, 2.42), on a free loopback port with a temporary
 * config and storage directory, scraping every second a tiny traffic exporter of ours: a Node HTTP server exposing
 * Istio's standard metrics (`istio_requests_total`, `istio_request_duration_milliseconds_bucket`, labelled as Istio's
 * proxies label them) for workloads whose request rate, error rate and latency the test sets, plus any gauge it sets.
 *
 * Counters grow continuously with the rates set (advanced to the time of every scrape), so `rate()` over a window
 * gives back the rates set in that window. Everything started is stopped by `stop()` and at the exit of the process.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/** Istio's default buckets of `istio_request_duration_milliseconds` (Envoy's stats of the istio.stats filter). */
const BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

/** The traffic of one workload, as the test sets it. */
export interface Traffic {
  /** Requests per second. */
  readonly rps: number;
  /** Share of them answered 503, 0–1. */
  readonly errorRate: number;
  /** Duration of every request, in milliseconds. */
  readonly latencyMs: number;
  /** Which proxy reports it (`destination`: the sidecar; `waypoint`: ambient mode). @default 'destination' */
  readonly reporter?: string;
  /** Requests answered 200 before the exporter started (a workload that served, then went idle). @default 0 */
  readonly servedBefore?: number;
}

interface WorkloadCounters {
  readonly namespace: string;
  readonly workload: string;
  traffic: Traffic;
  ok: number;
  failed: number;
  /** Count of requests per latency observed (a latency change starts a new group). */
  byLatency: Map<number, number>;
}

/** The exporter: workloads `<name>` in `namespace` (or another namespace given to `set`), with the traffic set. */
export class TrafficExporter {
  private readonly workloads = new Map<string, WorkloadCounters>();
  private readonly gauges = new Map<string, number>();
  private last = Date.now();
  private server?: http.Server;

  constructor(private readonly namespace: string) {}

  /** Sets the traffic of a workload from now on. */
  public set(workload: string, traffic: Traffic, namespace: string = this.namespace): void {
    this.advance();
    const key = `${namespace}/${workload}`;
    const current = this.workloads.get(key);
    if (current) {
      current.traffic = traffic;
    } else {
      const before = traffic.servedBefore ?? 0;
      const byLatency = new Map(before > 0 ? [[traffic.latencyMs, before]] : []);
      this.workloads.set(key, { namespace, workload, traffic, ok: before, failed: 0, byLatency });
    }
  }

  /** Sets a gauge series, e.g. `queue_depth{namespace="prod",workload="shop-v2"}`, to a value. */
  public gauge(series: string, value: number): void {
    this.gauges.set(series, value);
  }

  public async start(): Promise<number> {
    this.server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(this.render());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  public async stop(): Promise<void> {
    if (this.server) {
      this.server.closeAllConnections();
      await new Promise((resolve) => this.server!.close(resolve));
    }
  }

  private advance(): void {
    const now = Date.now();
    const seconds = (now - this.last) / 1000;
    this.last = now;
    for (const w of this.workloads.values()) {
      const requests = w.traffic.rps * seconds;
      w.failed += requests * w.traffic.errorRate;
      w.ok += requests * (1 - w.traffic.errorRate);
      w.byLatency.set(w.traffic.latencyMs, (w.byLatency.get(w.traffic.latencyMs) ?? 0) + requests);
    }
  }

  private render(): string {
    this.advance();
    const lines = ['# TYPE istio_requests_total counter', '# TYPE istio_request_duration_milliseconds histogram'];
    for (const w of this.workloads.values()) {
      const labels = `reporter="${w.traffic.reporter ?? 'destination'}",destination_workload="${w.workload}",destination_workload_namespace="${w.namespace}"`;
      // A proxy creates a series at its first observation: a code never answered has no series (all 5xx: no "200").
      if (w.ok > 0) {
        lines.push(`istio_requests_total{${labels},response_code="200"} ${w.ok}`);
      }
      if (w.failed > 0) {
        lines.push(`istio_requests_total{${labels},response_code="503"} ${w.failed}`);
      }
      let total = 0;
      let sum = 0;
      for (const [latency, count] of w.byLatency) {
        total += count;
        sum += latency * count;
      }
      if (total === 0) {
        continue;
      }
      for (const le of BUCKETS) {
        const within = [...w.byLatency].filter(([latency]) => latency <= le).reduce((n, [, count]) => n + count, 0);
        lines.push(`istio_request_duration_milliseconds_bucket{${labels},le="${le}"} ${within}`);
      }
      lines.push(`istio_request_duration_milliseconds_bucket{${labels},le="+Inf"} ${total}`);
      lines.push(`istio_request_duration_milliseconds_sum{${labels}} ${sum}`);
      lines.push(`istio_request_duration_milliseconds_count{${labels}} ${total}`);
    }
    for (const [series, value] of this.gauges) {
      lines.push(`${series} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

/** The `prometheus` binary on the PATH, or undefined. */
export function prometheusBinary(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/**
 * `describe` when Prometheus is installed; otherwise, outside CI, a skipped suite with one line saying how to install
 * it. In CI (CI=true) a missing Prometheus is an error: the run fails (.ci/run installs it).
 */
export function describeWithPrometheus(name: string, body: () => void): void {
  if (prometheusBinary()) {
    describe(name, body);
    return;
  }
  const how = 'install Prometheus (apt-get install -y prometheus: .ci/run does it in CI)';
  if (process.env.CI === 'true' || process.env.CI === '1') {
    describe(name, () => {
      test('Prometheus is installed', () => {
        throw new Error(`CI: the analysis integration tests need a real Prometheus: ${how}`);
      });
    });
    return;
  }
  console.log(`skipping the integration suite "${name}": no prometheus on the PATH; ${how}`);
  describe.skip(name, body);
}

/** A loopback port free when asked (closed again: nothing listens on it). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Prometheus's web config: TLS, basic auth. */
export interface WebConfig {
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** User name to bcrypt hash. */
  readonly basicAuthUsers?: { readonly [user: string]: string };
  /** Whether `/-/ready` answers OK, with what it takes (CA, credentials). */
  readonly probe?: (url: string) => Promise<boolean>;
}

/** A Prometheus scraping `targets` every second. */
export class PrometheusServer {
  /**
   * `web`: Prometheus's web config (`--web.config.file`,
   * https://prometheus.io/docs/prometheus/latest/configuration/https/): TLS with this certificate and key (the URL is
   * then https), and basic auth users with their bcrypt hashes. `ready` then probes with `probe` (CA, credentials).
   */
  public static async start(targets: string[], web?: WebConfig): Promise<PrometheusServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-release-prometheus-'));
    const config = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(config, [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: mesh',
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'));
    const webFile = path.join(dir, 'web.yml');
    if (web) {
      fs.writeFileSync(webFile, [
        ...(web.tls ? ['tls_server_config:', `  cert_file: ${web.tls.certFile}`, `  key_file: ${web.tls.keyFile}`] : []),
        ...(web.basicAuthUsers ? ['basic_auth_users:', ...Object.entries(web.basicAuthUsers).map(([user, hash]) => `  ${user}: '${hash}'`)] : []),
        '',
      ].join('\n'));
    }
    const port = await freePort();
    const child = spawn(prometheusBinary()!, [
      `--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
      ...(web ? [`--web.config.file=${webFile}`] : []),
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    const server = new PrometheusServer(`${web?.tls ? 'https' : 'http'}://127.0.0.1:${port}`, child, dir);
    await server.ready(web?.probe);
    return server;
  }

  private stderr = '';
  private readonly killAtExit: () => void;

  private constructor(public readonly url: string, private readonly child: ChildProcess, private readonly dir: string) {
    this.killAtExit = () => child.kill('SIGKILL');
    child.stderr!.on('data', (chunk) => { this.stderr = (this.stderr + String(chunk)).slice(-4000); });
    process.on('exit', this.killAtExit);
  }

  /** Waits until Prometheus answers /-/ready (30 s at most). */
  private async ready(probe: (url: string) => Promise<boolean> = async (url) => (await fetch(url)).ok): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) {
        throw new Error(`prometheus exited (${this.child.exitCode}): ${this.stderr}`);
      }
      try {
        if (await probe(`${this.url}/-/ready`)) {
          return;
        }
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await this.stop();
    throw new Error(`prometheus did not get ready in 30 s: ${this.stderr}`);
  }

  /** Stops Prometheus (SIGTERM, SIGKILL after 5 s) and removes its directory. */
  public async stop(): Promise<void> {
    process.off('exit', this.killAtExit);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
