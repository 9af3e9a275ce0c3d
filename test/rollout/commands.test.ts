/**
 * `mesh-release rollout`, `promote`, `abort` and `status` without a cluster: usage, and the errors that come before
 * any request (no kubeconfig, an unknown context). What they do on a cluster: test/integration/rollout.integration.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { cliBuild, cliBuiltInProcess, cliInProcess, closedPort, FakeStage, fakeApp, tmpDir } from '../cli/_cli';

beforeAll(() => cliBuild(), 120_000);
jest.setTimeout(60_000);

const PLAN: { [stage: string]: FakeStage } = {
  'stable': [['v1'], ['v1'], { v1: 100 }],
  'make-routable': [['v1'], ['v1', 'v2'], { v1: 100 }],
};

describe('rollout, promote, abort, status', () => {
  test.each([['rollout'], ['promote'], ['abort'], ['status']])('%s --help exits 0 with its usage and the exit codes', async (command) => {
    const run = await cliInProcess([command, '--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Usage: mesh-release ${command}`);
    expect(run.stdout).toContain('--kubeconfig <file>');
    expect(run.stdout).toContain('--context <name>');
  });

  test('rollout --help lists its options and exit codes 4 and 5', async () => {
    const run = await cliInProcess(['rollout', '--help']);
    for (const option of ['--prometheus <url>', '--prometheus-header <header>', '--prometheus-bearer-token-file <file>', '--prometheus-ca-file <file>',
      '--prometheus-insecure-skip-tls-verify', '--to <stage>', '--force', '--retry', '--propagation-wait <seconds>', '--istio-status', '--wait-timeout <seconds>']) {
      expect(run.stdout).toContain(option);
    }
    // promote refuses a plan rolled back before like rollout does, and takes the same way out.
    expect((await cliInProcess(['promote', '--help'])).stdout).toContain('--retry');
    expect(run.stdout).toContain('4 a stage\'s analysis failed or a wait timed out');
    expect(run.stdout).toContain('5 paused before a pauseBefore stage');
  });

  test('fails (exit 2) without a kubeconfig, before the app is run', async () => {
    const home = tmpDir();
    const run = await cliBuiltInProcess(['rollout', '--app', fakeApp(PLAN)], { env: { HOME: home, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '' } });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('mesh-release: error: no kubeconfig: pass --kubeconfig <file>, set KUBECONFIG, or create ~/.kube/config');
  });

  test('fails (exit 2) on an unknown --context', async () => {
    const dir = tmpDir();
    const kubeconfig = path.join(dir, 'config');
    fs.writeFileSync(kubeconfig, 'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\ncontexts: [{name: c, context: {cluster: c}}]\ncurrent-context: c\n');
    const run = await cliBuiltInProcess(['status', '--app', fakeApp(PLAN), '--kubeconfig', kubeconfig, '--context', 'prod']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`mesh-release: error: context 'prod' not found in ${kubeconfig} (contexts: c)`);
  });

  test('fails (exit 2) when the API server cannot be reached, naming it and the context', async () => {
    const dir = tmpDir();
    const kubeconfig = path.join(dir, 'config');
    fs.writeFileSync(kubeconfig, 'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\ncontexts: [{name: c, context: {cluster: c}}]\ncurrent-context: c\n');
    const run = await cliBuiltInProcess(['rollout', '--app', fakeApp(PLAN), '--kubeconfig', kubeconfig]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('cannot reach the API server https://127.0.0.1:1 (context c)');
  });

  describe('a plan with an analysis (synthesized once, read with --stages)', () => {
    const stages = tmpDir();
    const unreachable = tmpDir();
    const kubeconfig = path.join(unreachable, 'config');
    beforeAll(async () => {
      fs.writeFileSync(kubeconfig, 'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\ncontexts: [{name: c, context: {cluster: c}}]\ncurrent-context: c\n');
      const rollout = { interval: 2, count: 2, metrics: [{ successRate: { min: 99 } }], pauseBefore: ['shift-100'] };
      const planned = await cliBuiltInProcess(['plan', '--app', path.join(__dirname, '..', 'integration', 'app'), '--out', stages],
        { env: { INTEG_CASE: 'istio-canary-1', INTEG_ROLLOUT: JSON.stringify(rollout) } });
      expect({ status: planned.status, stderr: planned.status === 0 ? '' : planned.stderr }).toEqual({ status: 0, stderr: '' });
    }, 120_000);

    test('rollout without --prometheus goes on to the cluster first: a release already at its target needs none', async () => {
      // The refusal itself, once the live stage is read: test/rollout/plan-analysis.test.ts and rollout-analysis.integration.ts.
      const run = await cliInProcess(['rollout', '--stages', stages, '--kubeconfig', kubeconfig]);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('cannot reach the API server https://127.0.0.1:1 (context c)');
    });

    test('--output json: a refusal is an event too', async () => {
      const run = await cliInProcess(['promote', '--stages', stages, '--kubeconfig', kubeconfig, '--output', 'json']);
      expect(run.status).toBe(2);
      expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toMatchObject({ event: 'error', exitCode: 2, message: expect.stringContaining('cannot reach the API server') });
    });

    test('--output json: a usage error, and status refused, are one JSON error event on stdout each (the text on stderr)', async () => {
      const usage = await cliInProcess(['rollout', '--stages', stages, '--kubeconfig', kubeconfig, '--wait-timeout', '0', '--output', 'json']);
      expect(usage.status).toBe(2);
      expect(usage.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
        { event: 'error', exitCode: 2, message: expect.stringContaining("option '--wait-timeout <seconds>' argument '0' is invalid") },
      ]);
      const status = await cliInProcess(['status', '--stages', stages, '--kubeconfig', kubeconfig, '--output=json']);
      // Not reachable: bad input (2), as for rollout.
      expect(status.status).toBe(2);
      expect(status.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
        { event: 'error', exitCode: 2, message: expect.stringContaining('cannot reach the API server') },
      ]);
      expect(status.stderr).toContain('cannot reach the API server');
      // A refusal rollout already wrote as an event is not written twice.
      const refused = await cliInProcess(['promote', '--stages', stages, '--kubeconfig', kubeconfig, '--output', 'json']);
      expect(refused.stdout.trim().split('\n').filter((l) => JSON.parse(l).event === 'error')).toHaveLength(1);
    });

    test('--to a stage before the first analyzed one, and abort, need no Prometheus (they go on to the cluster)', async () => {
      for (const args of [['rollout', '--to', 'deploy'], ['abort']]) {
        const run = await cliInProcess([...args, '--stages', stages, '--kubeconfig', kubeconfig]);
        expect({ args, status: run.status }).toEqual({ args, status: 2 });
        expect(run.stderr).toContain('cannot reach the API server https://127.0.0.1:1 (context c)');
      }
    });

    test('--to a stage the plan does not have fails (exit 2) before Prometheus is asked for', async () => {
      const run = await cliInProcess(['rollout', '--stages', stages, '--kubeconfig', kubeconfig, '--to', 'shift-99']);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('mesh-release: error: --to shift-99: not a stage of the plan (stable, make-routable, deploy, shift-50, shift-100, '
        + 'unroute, drop-routable, retire)');
    });

    test('--prometheus-header, --prometheus-bearer-token-file: malformed or missing fails (exit 2) before the cluster is contacted, no value printed', async () => {
      const secret = 'Bearer eyJhbGciOiJSUzI1NiJ9.s3cr3t';
      const header = await cliInProcess(['rollout', '--stages', stages, '--kubeconfig', kubeconfig, '--prometheus', 'https://prometheus.example',
        '--prometheus-header', 'X-Scope-OrgID: tenant-1', '--prometheus-header', secret]);
      expect({ status: header.status, stderr: header.stderr }).toEqual({
        status: 2,
        stderr: `mesh-release: error: --prometheus-header #2 (${secret.length} characters, hidden): not a header 'Name: value' with a name and a value (no line break or control character), `
          + 'e.g. --prometheus-header \'Authorization: Bearer <token>\' or --prometheus-header \'X-Scope-OrgID: <tenant>\'\n',
      });
      const missing = path.join(tmpDir(), 'token');
      const file = await cliInProcess(['rollout', '--stages', stages, '--kubeconfig', kubeconfig, '--prometheus', 'https://prometheus.example',
        '--prometheus-bearer-token-file', missing]);
      expect({ status: file.status, stderr: file.stderr }).toEqual({ status: 2, stderr: `mesh-release: error: --prometheus-bearer-token-file ${missing}: ENOENT\n` });
      const alone = await cliInProcess(['rollout', '--stages', stages, '--kubeconfig', kubeconfig, '--prometheus-header', 'X-Scope-OrgID: tenant-1']);
      expect({ status: alone.status, stderr: alone.stderr })
        .toEqual({ status: 2, stderr: 'mesh-release: error: --prometheus-header: how to reach --prometheus <url>, which is not given\n' });
    });

    test('a malformed --prometheus fails (exit 2) before the cluster is contacted; an unreachable one is asked only where a stage to apply is analyzed', async () => {
      const bad = await cliInProcess(['rollout', '--stages', stages, '--kubeconfig', kubeconfig, '--prometheus', 'localhost:9090']);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('--prometheus localhost:9090: the Prometheus URL must be an http(s) URL');
      const port = await closedPort();
      const gone = await cliInProcess(['rollout', '--stages', stages, '--kubeconfig', kubeconfig, '--prometheus', `http://127.0.0.1:${port}`]);
      expect(gone.status).toBe(2);
      expect(gone.stderr).toContain('cannot reach the API server https://127.0.0.1:1 (context c)');
    });
  });
});
