/**
 * Every stage through a real API server: each stage of the bundled example (as `mesh-release plan` writes it) and of
 * every case of `_cases.ts` is applied with a server-side dry run and strict field validation. The server enforces
 * the CRDs' OpenAPI schemas, their CEL rules and Gateway API's ValidatingAdmissionPolicy, as a production cluster
 * of Kubernetes 1.32 with Istio 1.30.3 and Gateway API 1.6.1 (standard channel) does.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { CASES } from './_cases';
import { ControlPlane, describeWithControlPlane } from './_control-plane';
import { dryRunStage, synthesizeStage } from './_stages';
import { cliBuiltInProcess, EXAMPLE, ROOT, tmpDir } from '../cli/_cli';

describeWithControlPlane('every stage through the API server (dry run, strict)', () => {
  let cp: ControlPlane;
  const counted = { stages: 0, objects: 0 };

  beforeAll(async () => {
    cp = await ControlPlane.start();
    await cp.createNamespaces('shop', 'bookinfo', ...CASES.map((c) => c.name));
  }, 120_000);
  afterAll(async () => {
    console.log(`dry run: ${counted.stages} stages, ${counted.objects} objects accepted by the API server`);
    await cp?.stop();
  }, 60_000);

  test('the server refuses what a cluster refuses (the check can fail)', async () => {
    const route = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'too-many-rules', namespace: 'shop' },
      spec: {
        parentRefs: [{ group: '', kind: 'Service', name: 'web' }],
        rules: Array.from({ length: 17 }, () => ({ backendRefs: [{ name: 'web', port: 80 }] })),
      },
    };
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ port: 80 }], bogus: 1 } };
    const refused = await dryRunStage(cp.kube, [route, service]);
    expect(refused.map((r) => r.object)).toEqual(['HTTPRoute/too-many-rules', 'Service/web']);
    expect(refused[0].message).toMatch(/spec.rules: Too many: 17: must have at most 16 items/);
    expect(refused[1].message).toMatch(/\.spec\.bogus: field not declared in schema/);
  }, 60_000);

  test('every stage of the bundled example', async () => {
    const out = tmpDir();
    const plan = await cliBuiltInProcess(['plan', '--app', path.join(ROOT, EXAMPLE), '--out', out, '--force']);
    expect(plan.status).toBe(0);
    const stageDirs = fs.readdirSync(out).filter((d) => /^\d+-/.test(d)).sort();
    expect(stageDirs.length).toBeGreaterThan(5);
    for (const dir of stageDirs) {
      const objects = fs.readdirSync(path.join(out, dir)).filter((f) => f.endsWith('.yaml'))
        .flatMap((f) => YAML.parseAllDocuments(fs.readFileSync(path.join(out, dir, f), 'utf8')).map((d) => d.toJSON()))
        .filter((o) => o);
      expect(objects.length).toBeGreaterThan(0);
      expect({ stage: dir, refused: await dryRunStage(cp.kube, objects) }).toEqual({ stage: dir, refused: [] });
      counted.stages++;
      counted.objects += objects.length;
    }
  }, 120_000);

  test.each(CASES.map((c) => [c.name, c] as const))('every stage of %s', async (_name, c) => {
    expect(await dryRunStage(cp.kube, c.prerequisites)).toEqual([]);
    for (const stage of c.plan.stageNames) {
      const objects = synthesizeStage(c, stage);
      expect({ stage, refused: await dryRunStage(cp.kube, objects) }).toEqual({ stage, refused: [] });
      counted.stages++;
      counted.objects += objects.length;
    }
  }, 60_000);
});
