/**
 * `mesh-release check` on hand-written YAML: schemas, then the safety rules; severities, --strict,
 * --rollback, --namespace, --cluster-domain, --output json; bad input (exit 2, never a stack trace);
 * linear time; and the guard that it loads no cdk8s.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Testing, Yaml } from 'cdk8s';
import { cli, cliBuild, cliInProcess, fixture, tmpDir } from './_cli';
import { MeshRelease, ReleasePlan } from '../../src';
import { canaryOfServices } from '../_many-services';


describe('check on hand-written YAML', () => {
  test('a correct pair (directory before, file after): exit 0', async () => {
    const run = await cliInProcess(['check', fixture('stable'), fixture('make-routable.yaml')]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('OK: no violations (8 objects checked)');
  });

  test('a subset routed but missing from the DestinationRule: exit 1, the severity, the rule and the fix', async () => {
    const run = await cliInProcess(['check', fixture('stable'), fixture('route-to-missing-subset.yaml')]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("error: VirtualService/helloworld http[0]  [subset-defined]  routes to subset 'v2' of helloworld.shop.svc.cluster.local");
    expect(run.stdout).toContain("  fix: add subset 'v2' to the DestinationRule");
    expect(run.stdout).toMatch(/^UNSAFE: \d+ errors?, \d+ warnings?; applying .* could drop requests$/m);
  });

  test('a Deployment deleted while its subset still exists: exit 1, deployment-removed-while-subset', async () => {
    const run = await cliInProcess(['check', fixture('make-routable.yaml'), fixture('v1-deleted-while-routed.yaml')]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("error: Deployment/helloworld-v1  [deployment-removed-while-subset]  is deleted while subset 'v1'");
  });

  test('a header match route without a catch-all route: exit 1, catch-all-route', async () => {
    const run = await cliInProcess(['check', fixture('stable'), fixture('header-without-catch-all.yaml')]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('error: VirtualService/helloworld http[0]  [catch-all-route]');
    expect(run.stdout).toContain('UNSAFE: 1 error, 0 warnings;');
  });

  test('--rollback checks the transition the other way, like swapping the arguments', async () => {
    // Forward, adding subset v2 is fine; rolling back from a route to v2 removes a routed subset: an error.
    const forward = await cliInProcess(['check', fixture('stable'), fixture('make-routable.yaml')]);
    const back = await cliInProcess(['check', '--rollback', fixture('make-routable.yaml'), fixture('route-to-missing-subset.yaml')]);
    const swapped = await cliInProcess(['check', fixture('route-to-missing-subset.yaml'), fixture('make-routable.yaml')]);
    expect(forward.status).toBe(0);
    expect(back.status).toBe(swapped.status);
    expect(back.stdout.replace(/applying .*$/m, '')).toBe(swapped.stdout.replace(/applying .*$/m, ''));
    const json = JSON.parse((await cliInProcess(['check', '--rollback', '--output', 'json', fixture('stable'), fixture('make-routable.yaml')])).stdout);
    expect(json).toMatchObject({ rollback: true, from: 'test/fixtures/cli/make-routable.yaml', to: 'test/fixtures/cli/stable' });
  });

  test('--namespace: manifests without metadata.namespace are read in that namespace (no false violations)', async () => {
    const before = fixture(path.join('no-namespace', 'before.yaml'));
    const after = fixture(path.join('no-namespace', 'after.yaml'));
    const withoutFlag = await cliInProcess(['check', before, after]);
    expect(withoutFlag.status).toBe(1);
    expect(withoutFlag.stdout).toContain('[destination-ready]');
    const withFlag = await cliInProcess(['check', '--namespace', 'shop', before, after]);
    expect(withFlag.stdout.trim()).toBe('OK: no violations (10 objects checked)');
    expect(withFlag.status).toBe(0);
    expect((await cliInProcess(['check', '--namespace', 'Not_A_Namespace', before, after])).status).toBe(2);
  });

  test('--cluster-domain: hosts of another cluster domain are refused without it, and are in-cluster Services with it', async () => {
    const before = fixture(path.join('cluster-domain', 'before.yaml'));
    const after = fixture(path.join('cluster-domain', 'after.yaml'));
    const without = await cliInProcess(['check', before, after]);
    expect(without.status).toBe(1);
    expect(without.stdout).toContain("error: VirtualService/helloworld  [cluster-domain]  host 'helloworld.shop.svc.corp.example' is Service 'helloworld' "
      + "of namespace 'shop' in cluster domain 'corp.example', but the check reads in-cluster hosts in 'cluster.local'");
    expect(without.stdout).toContain('mesh-release --cluster-domain corp.example');
    const run = await cliInProcess(['check', '--cluster-domain', 'corp.example', before, after]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("error: VirtualService/helloworld http[0]  [destination-ready]  sends traffic to subset 'v3' of helloworld.shop.svc.corp.example");
  });

  test('YAML a MeshRelease synthesized for another cluster domain carries it (mesh-release.io/cluster-domain): check reads it without the flag', async () => {
    const dir = tmpDir();
    const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10] });
    const files = ['deploy', 'shift-10'].map((stage) => {
      const chart = Testing.chart();
      new MeshRelease(chart, 'web', {
        app: 'web',
        namespace: 'shop',
        port: 8080,
        clusterDomain: 'corp.example',
        stage: plan.stage(stage),
        versions: [{ version: 'v1', image: 'web:1' }, { version: 'v2', image: 'web:2' }],
      });
      const file = path.join(dir, `${stage}.yaml`);
      fs.writeFileSync(file, Yaml.stringify(...Testing.synth(chart)));
      return file;
    });
    expect(fs.readFileSync(files[1], 'utf8')).toContain('mesh-release.io/cluster-domain: corp.example');
    const run = await cliInProcess(['check', ...files]);
    expect(run.stdout).not.toContain('[cluster-domain]');
    expect(run.status).toBe(0);
    // The flag still decides: the cluster has one domain, the one it names.
    const flagged = await cliInProcess(['check', '--cluster-domain', 'cluster.local', ...files]);
    expect(flagged.status).toBe(1);
    expect(flagged.stdout).toContain("[cluster-domain]  host 'web.shop.svc.corp.example'");
  });

  test('a routed Deployment that drops spec.replicas 10 for an autoscaler: exit 1, replicas-removed-while-routed; rolling back is fine', async () => {
    // GIVEN v1 at 100% on replicas: 10, then on a HorizontalPodAutoscaler (minReplicas 10) without replicas
    const before = fixture('replicas-fixed.yaml');
    const after = fixture('replicas-autoscaled.yaml');

    // WHEN checking forward, and the roll back
    const run = await cliInProcess(['check', before, after]);
    const back = await cliInProcess(['check', '--rollback', before, after]);

    // THEN forward names the Deployment, the count, why and the fix; the roll back sets the field again
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('error: Deployment/helloworld-v1  [replicas-removed-while-routed]  sets spec.replicas: 10 in the previous stage and '
      + "leaves it out in this one, while subset 'v1' of helloworld.shop.svc.cluster.local receives traffic in both stages: applying this stage "
      + 'removes the field (kubectl apply: it is in the last-applied configuration; server-side apply: its field manager owned it), and the API '
      + 'server sets the default, 1 pod, until an autoscaler scales it back');
    expect(run.stdout).toContain('  fix: keep spec.replicas: 10 (Scaling.fixed(10)) on Deployment/helloworld-v1 until a stage where its version gets '
      + 'no traffic, or hand the field over first (kubectl apply edit-last-applied');
    expect(run.stdout).toMatch(/^UNSAFE: 1 error, 0 warnings;/m);
    expect(back.stdout).not.toContain('[replicas-removed-while-routed]');
    expect(back.status).toBe(0);
  });

  test('--output json: machine-readable verdict, counts and violations', async () => {
    const run = await cliInProcess(['check', '--output', 'json', fixture('stable'), fixture('route-to-missing-subset.yaml')]);
    expect(run.status).toBe(1);
    const json = JSON.parse(run.stdout);
    expect(json).toMatchObject({ ok: false, rollback: false, schemaViolations: [], notChecked: [], notes: [] });
    expect(json.errors).toBeGreaterThan(0);
    expect(json.violations[0]).toEqual(expect.objectContaining({ rule: 'subset-defined', severity: 'error', object: 'VirtualService/helloworld http[0]' }));
  });

  test('warnings alone exit 0 (printed with their severity); --strict makes them fail', async () => {
    // v1 is deleted after it was unrouted, while its subset (routed by nothing) remains: a stale subset, no request lost.
    const run = await cliInProcess(['check', fixture('unrouted.yaml'), fixture('v1-deleted-early.yaml')]);
    expect(run.stdout).toContain("warning: DestinationRule/helloworld  [stale-subset]  subset 'v1'");
    expect(run.stdout).toMatch(/^OK: 0 errors, 1 warning \(\d+ objects checked\)$/m);
    expect(run.status).toBe(0);
    const strict = await cliInProcess(['check', '--strict', fixture('unrouted.yaml'), fixture('v1-deleted-early.yaml')]);
    expect(strict.status).toBe(1);
    expect(strict.stdout).toMatch(/^WARNINGS \(--strict\): 0 errors, 1 warning/m);
  });
});

// Issue 19: Gateway API YAML the API server accepts but that drops requests (or, for the split of rules between two
// routes, that does not).
describe('check on hand-written Gateway API YAML', () => {
  const gatewayApi = (name: string) => path.join('test', 'fixtures', 'gateway-api', name);
  test.each([
    ['a backendRef port that is the targetPort', 'deploy.yaml', 'backend-target-port.yaml',
      'error: HTTPRoute/reviews rules[0]  [service-port]  routes to port 8080 of Service bookinfo/reviews-v2, whose ports are 9080'],
    ['a header rule without backendRefs', 'deploy.yaml', 'header-rule-without-backends.yaml',
      'error: HTTPRoute/reviews rules[0]  [rule-has-backends]  has no backendRefs and no RequestRedirect filter'],
    ['a Service parentRef without group ""', 'deploy.yaml', 'parent-without-group.yaml',
      'error: HTTPRoute/reviews parentRefs[0]  [parent-ref]  names Service bookinfo/reviews without group ""'],
    ['a Service parentRef with a port the Service lacks', 'deploy.yaml', 'parent-port-missing.yaml',
      'error: HTTPRoute/reviews parentRefs[0]  [parent-ref]  names port 8080 of Service bookinfo/reviews, whose ports are 9080'],
    ['two catch-all HTTPRoutes on one Service', 'deploy.yaml', 'two-catch-alls.yaml',
      'error: HTTPRoute/reviews-canary rules[0]  [one-catch-all-per-parent]  takes every request on Service bookinfo/reviews, like HTTPRoute/reviews rules[0]'],
    ['a VirtualService and an HTTPRoute for one Service', 'deploy.yaml', 'virtual-service-and-httproute.yaml',
      'error: VirtualService/reviews  [one-router-per-service]  routes the in-mesh requests to Service bookinfo/reviews, like HTTPRoute/reviews'],
    ['a ReferenceGrant created with the route that needs it', 'cross-namespace-deploy.yaml', 'cross-namespace-shift.yaml',
      'error: HTTPRoute/reviews rules[0]  [reference-grant]  routes to Service canary/reviews-v2 in another namespace, allowed by a ReferenceGrant this stage creates'],
    ['a ReferenceGrant deleted with the route that stops needing it', 'cross-namespace-shift.yaml', 'cross-namespace-unroute.yaml',
      "error: ReferenceGrant/reviews-from-bookinfo  [reference-grant]  no longer allows HTTPRoutes of 'bookinfo' to reach Service canary/reviews-v2"],
  ])('%s: exit 1, the rule and the message', async (_what, before, after, line) => {
    const run = await cliInProcess(['check', gatewayApi(before), gatewayApi(after)]);
    expect(run.stdout).toContain(line);
    expect(run.stdout).toMatch(/^UNSAFE: 1 error, 0 warnings; /m);
    expect(run.status).toBe(1);
  });

  test('a header rule in one HTTPRoute and the catch-all in another, on one Service: exit 0', async () => {
    const run = await cliInProcess(['check', gatewayApi('deploy.yaml'), gatewayApi('header-and-catch-all-split.yaml')]);
    expect(run.stdout.trim()).toBe('OK: no violations (13 objects checked)');
    expect(run.status).toBe(0);
  });

  test('the ReferenceGrant a stage before the route, and deleted a stage after it: exit 0 each', async () => {
    for (const [before, after] of [['cross-namespace-deploy.yaml', 'cross-namespace-deploy-granted.yaml'], ['cross-namespace-deploy-granted.yaml', 'cross-namespace-shift.yaml'],
      ['cross-namespace-shift.yaml', 'cross-namespace-deploy-granted.yaml'], ['cross-namespace-deploy-granted.yaml', 'cross-namespace-deploy.yaml']]) {
      const run = await cliInProcess(['check', gatewayApi(before), gatewayApi(after)]);
      expect({ before, after, status: run.status, stderr: run.stderr, stdout: run.stdout }).toEqual({ before, after, status: 0, stderr: '', stdout: expect.stringMatching(/^OK: no violations/) });
    }
  });
});

describe('check validates schemas, then runs the safety rules on the objects as the API server would keep them', () => {
  test('the seed guide\'s port and subset beside destination: unknown fields route[0].port and route[0].subset, dropped for the rules', async () => {
    const run = await cliInProcess(['check', fixture('stable'), fixture('seed-guide-misplaced-fields.yaml')]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('schema: VirtualService/helloworld spec.http[0].route[0].port: unknown field "port"');
    expect(run.stdout).toContain('schema: VirtualService/helloworld spec.http[0].route[0].subset: unknown field "subset"');
    expect(run.stdout).toContain('schema: the API server drops the unknown fields of VirtualService/helloworld (kubectl apply --validate=strict refuses '
      + 'the object instead): the safety rules below read it without them');
    expect(run.stdout).not.toContain('the safety rules were not run');
    const json = JSON.parse((await cliInProcess(['check', '--output', 'json', fixture('stable'), fixture('seed-guide-misplaced-fields.yaml')])).stdout);
    expect(json.schemaViolations.map((v: any) => v.path)).toEqual(['spec.http[0].route[0].port', 'spec.http[0].route[0].subset']);
    expect(json.served).toEqual({ pruned: ['VirtualService/helloworld'], refused: [] });
  });

  test("the guide's negative example (its only route matches a header, port and subset mis-nested): the schema findings AND the missing "
    + 'catch-all route of the object as served, exit 1', async () => {
    // GIVEN the stable stage, then the guide's VirtualService (the rest of the stage unchanged)
    const args = ['check', fixture('stable'), fixture('seed-guide-header-only.yaml')];

    // WHEN checking it
    const run = await cliInProcess(args);

    // THEN both: what the server drops, and what its route then does to the requests without the header
    expect(run.status).toBe(1);
    expect(run.stdout.split('\n').filter((line) => !line.startsWith('  fix:'))).toEqual([
      'schema: VirtualService/helloworld spec.http[0].route[0].port: unknown field "port"',
      'schema: VirtualService/helloworld spec.http[0].route[0].subset: unknown field "subset"',
      'schema: the API server drops the unknown fields of VirtualService/helloworld (kubectl apply --validate=strict refuses the object instead): '
        + 'the safety rules below read it without them',
      expect.stringMatching(/^error: VirtualService\/helloworld http\[0\] {2}\[catch-all-route\] {2}/),
      expect.stringMatching(/^INVALID: 2 schema violations; as the API server would keep the objects, 1 error, 0 warnings: applying .*seed-guide-header-only\.yaml after .*stable could drop requests$/),
      '',
    ]);
    const json = JSON.parse((await cliInProcess([...args, '--output', 'json'])).stdout);
    expect(json).toMatchObject({ ok: false, errors: 1, served: { pruned: ['VirtualService/helloworld'], refused: [] } });
    expect(json.schemaViolations).toHaveLength(2);
    expect(json.violations.map((v: any) => v.rule)).toEqual(['catch-all-route']);
  });

  test('an object the API server refuses (a type error) is left out of the safety rules, and said so', async () => {
    // GIVEN the stable stage whose DestinationRule's subsets is a string: refused, so the route's subset v1 is undefined
    const dir = tmpDir();
    fs.cpSync(fixture('stable'), dir, { recursive: true });
    const routing = path.join(dir, 'istio', 'routing.yaml');
    fs.writeFileSync(routing, fs.readFileSync(routing, 'utf8').replace('  subsets:\n    - { name: v1, labels: { version: v1 } }', '  subsets: v1'));

    // WHEN / THEN the schema finding, the refusal, and subset-defined on what the server keeps
    const run = await cliInProcess(['check', fixture('stable'), dir]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('schema: DestinationRule/helloworld spec.subsets: must be array');
    expect(run.stdout).toContain('schema: the API server refuses DestinationRule/helloworld: the safety rules below leave it out');
    expect(run.stdout).toContain('[subset-defined]');
    expect(run.stdout).toMatch(/^INVALID: 1 schema violation; as the API server would keep the objects, \d+ errors?, \d+ warnings?: applying/m);
  });

  test('--no-schemas runs the rules only', async () => {
    const run = await cliInProcess(['check', '--no-schemas', fixture('stable'), fixture('seed-guide-misplaced-fields.yaml')]);
    expect(run.stdout).not.toContain('schema:');
  });

  test('kinds without a schema are named as not checked, on stderr, and do not fail', async () => {
    const dir = tmpDir();
    fs.cpSync(fixture('stable'), dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'extra.yaml'), 'apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w, namespace: shop }\n');
    const run = await cliInProcess(['check', fixture('stable'), dir]);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('note: not checked (1): Widget/w (example.com/v1): no schema for this kind');
  });
});

beforeAll(() => cliBuild(), 120_000);

describe('check: bad input is exit 2 with one line, never a stack trace', () => {
  test.each([
    ['a missing path', 'nope.yaml', /^mesh-release: error: no such file or directory: test\/fixtures\/cli\/nope\.yaml$/],
    ['invalid YAML', 'invalid.yaml', /^mesh-release: error: invalid YAML in test\/fixtures\/cli\/invalid\.yaml: .* at line \d+, column \d+$/],
    ['a YAML alias bomb', 'alias-bomb.yaml', /^mesh-release: error: invalid YAML in test\/fixtures\/cli\/alias-bomb\.yaml \(document 1\): Excessive alias count/],
    ['YAML with no object', 'comments-only.yaml', /^mesh-release: error: no Kubernetes object in test\/fixtures\/cli\/comments-only\.yaml/],
    ['YAML that is not a Kubernetes object', 'not-an-object.yaml', /^mesh-release: error: invalid manifest in .*not a Kubernetes object \(it needs string apiVersion and kind\)/],
  ])('%s', async (_what, file, message) => {
    const result = await cliInProcess(['check', fixture('stable'), fixture(file)]);
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toMatch(message);
    expect(result.stdout).toBe('');
  });

  test('as a process too: the alias bomb gives exit 2 and one line on stderr', () => {
    const result = cli(['check', fixture('stable'), fixture('alias-bomb.yaml')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^mesh-release: error: invalid YAML in .*Excessive alias count[^\n]*\n$/);
    expect(result.stdout).toBe('');
  });

  test('a missing argument: usage error, exit 2', async () => {
    const result = await cliInProcess(['check', fixture('stable')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("missing required argument 'after'");
  });
});

// How the check's time grows with the number of objects is measured by the benchmark (`BENCH_PHASES=check`,
// BENCHMARKS.md), not timed here.
describe('check on many objects', () => {
  test('the CLI checks a canary of 100 services (1,800 objects of YAML) and finds it safe', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'before.yaml'), canaryOfServices(100, 10).map((o) => JSON.stringify(o)).join('\n---\n'));
    fs.writeFileSync(path.join(dir, 'after.yaml'), canaryOfServices(100, 50).map((o) => JSON.stringify(o)).join('\n---\n'));
    // In this process: the schemas the other tests of this file compiled serve it (a process compiles them again).
    const run = await cliInProcess(['check', path.join(dir, 'before.yaml'), path.join(dir, 'after.yaml')]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^OK: no violations \(1800 objects checked\)/);
    expect(run.status).toBe(0);
  });

  test('one broken service among 100 is found, by name', () => {
    const after = canaryOfServices(100, 50);
    const vs = after.find((o) => o.kind === 'VirtualService' && o.metadata.name === 'svc-57');
    vs.spec.http[0].route[1].destination.subset = 'v9';
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { checkManifests } = require('../../src/routing/_registry');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { readOptions } = require('../../src/safety/_engine');
    const violations = checkManifests(after, canaryOfServices(100, 10), readOptions());
    expect(violations.filter((v: any) => v.severity === 'error').map((v: any) => [v.rule, v.object])).toEqual([['subset-defined', 'VirtualService/svc-57 http[0]']]);
  });
});

describe('check loads no cdk8s (DESIGN.md "Guards")', () => {
  // Run in this order in ONE fresh process: each command's module list is what it and the ones before it loaded,
  // so "no cdk8s" after a command holds for it and every command before it. The first command parses YAML and
  // validates schemas on its own, so "yaml is loaded" is its own doing.
  const COMMANDS: Array<[string, string[]]> = [
    ['check with schema validation', ['check', fixture('stable'), fixture('make-routable.yaml')]],
    ['check --output json --rollback', ['check', '--output', 'json', '--rollback', fixture('stable'), fixture('make-routable.yaml')]],
    ['--help', ['--help']],
  ];
  let loaded: Array<{ code: string; modules: string[] }>;
  let stderr: string;
  beforeAll(() => {
    const program = path.join(cliBuild(), 'cli', 'program.js');
    const script = `(async () => {
      const { main } = require(${JSON.stringify(program)});
      for (const args of ${JSON.stringify(COMMANDS.map(([, args]) => args))}) {
        const code = await main(['node', 'mesh-release', ...args]);
        process.stderr.write('\\nRESULT ' + JSON.stringify({ code: String(code), modules: Object.keys(require.cache) }) + '\\n');
      }
    })();`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: path.join(__dirname, '..', '..') });
    stderr = run.stderr;
    loaded = [...run.stderr.matchAll(/^RESULT (.*)$/gm)].map((m) => JSON.parse(m[1]));
  }, 30_000);

  test.each(COMMANDS.map(([what], i) => [what, i]))('%s: only YAML, commander, the rules and the schemas are loaded', (_what, i) => {
    expect({ results: loaded.length, stderr: loaded.length === COMMANDS.length ? '' : stderr }).toEqual({ results: COMMANDS.length, stderr: '' });
    const { code, modules } = loaded[i as number];
    expect(code).toBe('0');
    expect(modules.filter((m) => /[\\/]node_modules[\\/](cdk8s|cdk8s-plus-\d+|constructs)[\\/]/.test(m))).toEqual([]);
    expect(modules.some((m) => /[\\/]node_modules[\\/]yaml[\\/]/.test(m))).toBe(true);
    expect(modules.some((m) => /[\\/]node_modules[\\/]ajv[\\/]/.test(m))).toBe(true);
  });
});
