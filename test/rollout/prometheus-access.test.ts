/**
 * The flags that reach a Prometheus behind authentication or a private CA (rollout/prometheus-access.ts): parsed and
 * checked before the cluster is contacted (exit 2, naming the flag, never echoing a header's value or a token), a
 * bearer token file read again for every request. The real server: test/integration/prometheus-auth.integration.ts.
 */
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import { PrometheusClient, PrometheusError } from '../../src/analysis/_prometheus';
import { CliError } from '../../src/cli/errors';
import { connectPrometheus } from '../../src/rollout/plan-analysis';
import { prometheusAccess } from '../../src/rollout/prometheus-access';
import { tmpDir } from '../cli/_cli';

const SECRET = 'eyJhbGciOiJSUzI1NiJ9.secret';

describe('a --prometheus URL with credentials', () => {
  test('is refused (Node\'s fetch would refuse it), its password never printed, pointing at --prometheus-header', async () => {
    await expect(connectPrometheus('https://mesh:hunter2@prometheus.example', [])).rejects.toThrow(new CliError(
      '--prometheus https://mesh:<hidden>@prometheus.example: the Prometheus URL must not carry credentials (user:password@): pass them as a header, '
      + '--prometheus-header \'Authorization: Basic <base64 of user:password>\'; nothing applied', 2));
  });
});

describe('prometheusAccess', () => {
  test('headers as given, sent with every request', () => {
    const access = prometheusAccess({ prometheusHeader: [`Authorization: Bearer ${SECRET}`, 'X-Scope-OrgID:  tenant-1 '] });
    expect(access.headers!()).toEqual({ 'Authorization': `Bearer ${SECRET}`, 'X-Scope-OrgID': 'tenant-1' });
    expect(prometheusAccess({}).headers).toBeUndefined();
  });

  test.each([
    [`Bearer ${SECRET}`, `--prometheus-header #1 (${`Bearer ${SECRET}`.length} characters, hidden): not a header 'Name: value' with a name and a value (no line break or control character), `
      + 'e.g. --prometheus-header \'Authorization: Bearer <token>\' or --prometheus-header \'X-Scope-OrgID: <tenant>\''],
    ['Authorization:', '--prometheus-header #1 (\'Authorization: <hidden>\'): not a header \'Name: value\' with a name and a value '
      + '(no line break or control character), e.g. --prometheus-header \'Authorization: Bearer <token>\' or --prometheus-header \'X-Scope-OrgID: <tenant>\''],
    [`Bad Name: ${SECRET}`, `--prometheus-header #1 (${`Bad Name: ${SECRET}`.length} characters, hidden): not a header 'Name: value' with a name and a value (no line break or control character), `
      + 'e.g. --prometheus-header \'Authorization: Bearer <token>\' or --prometheus-header \'X-Scope-OrgID: <tenant>\''],
    [`Authorization: Bearer ${SECRET}\r\nX-Injected: 1`, '--prometheus-header #1 (\'Authorization: <hidden>\'): not a header \'Name: value\' with a name and a value '
      + '(no line break or control character), e.g. --prometheus-header \'Authorization: Bearer <token>\' or --prometheus-header \'X-Scope-OrgID: <tenant>\''],
  ])('fails (exit 2) on the header %j, its value hidden', (header, message) => {
    expect(() => prometheusAccess({ prometheusHeader: [header] })).toThrow(new CliError(message, 2));
  });

  test('fails (exit 2) on a header given twice, and on two Authorizations', () => {
    expect(() => prometheusAccess({ prometheusHeader: ['X-Scope-OrgID: a', 'x-scope-orgid: b'] }))
      .toThrow(new CliError('--prometheus-header x-scope-orgid: given twice: pass each header once', 2));
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'token'), SECRET);
    expect(() => prometheusAccess({ prometheusHeader: ['authorization: Basic abc'], prometheusBearerTokenFile: path.join(dir, 'token') }))
      .toThrow(new CliError('--prometheus-bearer-token-file and --prometheus-header \'Authorization: ...\' both set the Authorization header: pass one', 2));
  });

  test('fails (exit 2) on a token file or a CA file missing, empty or not PEM; on a CA and no verification both', () => {
    const dir = tmpDir();
    const missing = path.join(dir, 'nope');
    expect(() => prometheusAccess({ prometheusBearerTokenFile: missing })).toThrow(new CliError(`--prometheus-bearer-token-file ${missing}: ENOENT`, 2));
    fs.writeFileSync(path.join(dir, 'empty'), '\n');
    expect(() => prometheusAccess({ prometheusBearerTokenFile: path.join(dir, 'empty') }))
      .toThrow(new CliError(`--prometheus-bearer-token-file ${path.join(dir, 'empty')}: empty`, 2));
    expect(() => prometheusAccess({ prometheusCaFile: missing })).toThrow(new CliError(`--prometheus-ca-file ${missing}: ENOENT`, 2));
    fs.writeFileSync(path.join(dir, 'ca.txt'), 'not a certificate');
    expect(() => prometheusAccess({ prometheusCaFile: path.join(dir, 'ca.txt') }))
      .toThrow(new CliError(`--prometheus-ca-file ${path.join(dir, 'ca.txt')}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)`, 2));
    fs.writeFileSync(path.join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(() => prometheusAccess({ prometheusCaFile: path.join(dir, 'ca.pem'), prometheusInsecureSkipTlsVerify: true }))
      .toThrow(new CliError('--prometheus-ca-file and --prometheus-insecure-skip-tls-verify: pass one (a CA to verify against, or no verification)', 2));
  });

  test('a bearer token file is read again for every request: a rotated token is sent; one gone fails the query, not the process', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'token');
    fs.writeFileSync(path.join(dir, 'token'), 'token-1\n');
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(String(req.headers.authorization));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1, '1'] } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new PrometheusClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, prometheusAccess({ prometheusBearerTokenFile: file }));
      await client.query('vector(1)', new Date());
      fs.writeFileSync(file, 'token-2\n');
      await client.query('vector(1)', new Date());
      expect(seen).toEqual(['Bearer token-1', 'Bearer token-2']);
      fs.rmSync(file);
      await expect(client.query('vector(1)', new Date())).rejects.toThrow(new PrometheusError(`cannot read the bearer token file ${file}: ENOENT`));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
