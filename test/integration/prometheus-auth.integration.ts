/**
 * `--prometheus` behind TLS with a private CA and basic auth, against a REAL Prometheus 2.42 (its
 * `--web.config.file`: `tls_server_config` and `basic_auth_users`,
 * https://prometheus.io/docs/prometheus/latest/configuration/https/). The certificates are made by `openssl` here
 * (a CA, and a server certificate for IP 127.0.0.1 signed by it); the bcrypt hash of the password is fixed (made
 * with libxcrypt's crypt(3): `perl -e 'print crypt("s3cret-pw", q($2b$05$abcdefghijklmnopqrstuu))'`). The flags go
 * through the same functions as `rollout`'s (`prometheusAccess`, then `connectPrometheus` before the first stage).
 *
 * Run it alone: npx jest --ci --testMatch '<rootDir>/test/integration/prometheus-auth.integration.ts'
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import { describeWithPrometheus, PrometheusServer, TrafficExporter } from './_prometheus';
import { CliError } from '../../src/cli/errors';
import { connectPrometheus } from '../../src/rollout/plan-analysis';
import { prometheusAccess, PrometheusAccessOptions } from '../../src/rollout/prometheus-access';

const PASSWORD = 's3cret-pw';
const HASH = '$2b$05$abcdefghijklmnopqrstuuzSvhclVSvY9ufOheOOhcPviTPFJlqIC';
const basic = (user: string, password: string) => `Authorization: Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A CA and a server certificate for 127.0.0.1 signed by it, in a new directory. */
function certificates(): { dir: string; ca: string; cert: string; key: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-release-prometheus-tls-'));
  const f = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', '/CN=mesh-release test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '1',
    '-extfile', f('ext.cnf'));
  return { dir, ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') };
}

describeWithPrometheus('--prometheus behind TLS (a private CA) and basic auth, a real Prometheus', () => {
  const exporter = new TrafficExporter('prod');
  let prometheus: PrometheusServer;
  let tls: ReturnType<typeof certificates>;
  const connect = (flags: PrometheusAccessOptions) => connectPrometheus(prometheus.url, ['shift-50'], undefined, prometheusAccess(flags));

  beforeAll(async () => {
    tls = certificates();
    const port = await exporter.start();
    const ca = fs.readFileSync(tls.ca);
    prometheus = await PrometheusServer.start([`127.0.0.1:${port}`], {
      tls: { certFile: tls.cert, keyFile: tls.key },
      basicAuthUsers: { mesh: HASH },
      probe: (url) => new Promise((resolve) => {
        https.get(url, { ca, headers: { authorization: basic('mesh', PASSWORD).slice('Authorization: '.length) } }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        }).on('error', () => resolve(false));
      }),
    });
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await exporter.stop();
    if (tls) {
      fs.rmSync(tls.dir, { recursive: true, force: true });
    }
  });

  test('--prometheus-ca-file and --prometheus-header \'Authorization: Basic ...\': queries answer', async () => {
    const client = await connect({ prometheusCaFile: tls.ca, prometheusHeader: [basic('mesh', PASSWORD)] });
    expect(prometheus.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await client!.query('vector(42)', new Date())).toEqual({ kind: 'value', value: 42 });
  });

  test('without the CA: refused (exit 2), saying the certificate is not trusted and which flag to pass', async () => {
    const error = await connect({ prometheusHeader: [basic('mesh', PASSWORD)] }).catch((e) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(new RegExp(`^--prometheus ${prometheus.url}: Prometheus at ${prometheus.url} is unreachable: [A-Z_]+ \\(.*\\): `
      + 'its TLS certificate is not trusted; pass --prometheus-ca-file <the PEM of its CA>; nothing applied$'));
  });

  test('a wrong password, or none: refused (exit 2) with HTTP 401, the header named and its value hidden', async () => {
    const wrong = await connect({ prometheusCaFile: tls.ca, prometheusHeader: [basic('mesh', 'not-the-password')] }).catch((e) => e);
    expect(wrong).toEqual(new CliError(`--prometheus ${prometheus.url}: Prometheus at ${prometheus.url} refused the request: HTTP 401 Unauthorized `
      + '(sent Authorization: <hidden>: check them); nothing applied', 2));
    expect(wrong.message).not.toContain(Buffer.from('mesh:not-the-password').toString('base64'));
    const none = await connect({ prometheusCaFile: tls.ca }).catch((e) => e);
    expect(none.message).toBe(`--prometheus ${prometheus.url}: Prometheus at ${prometheus.url} refused the request: HTTP 401 Unauthorized `
      + '(no credentials sent: pass --prometheus-header or --prometheus-bearer-token-file); nothing applied');
  });

  test('--prometheus-insecure-skip-tls-verify: no CA needed', async () => {
    const client = await connect({ prometheusInsecureSkipTlsVerify: true, prometheusHeader: [basic('mesh', PASSWORD)] });
    expect(await client!.query('vector(1)', new Date())).toEqual({ kind: 'value', value: 1 });
  });
});
