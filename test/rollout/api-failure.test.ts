/**
 * The driver when the API server fails a request for good in the middle of a transition (after the dry run passed
 * and part of the stage was applied): the error must say where the release really is, not "where it was".
 */
import { FakeKube, planOf, run } from './_fake-api';
import { EXIT_UNSAFE } from '../../src/cli/errors';
import { KubeApiError } from '../../src/rollout/kube-client';

class FailingKube extends FakeKube {
  failOn?: (o: any) => boolean;
  async apply(o: any, ns: string, dry = false) {
    if (!dry && this.failOn?.(o)) {
      throw new KubeApiError(0, undefined, `patch virtualservices.networking.istio.io "${o.metadata.name}" in namespace "shop": cannot reach the API server fake (context fake): socket hang up`);
    }
    return super.apply(o, ns, dry);
  }
}

test('an apply failing after part of a stage was applied: exit 1, the release named between its stages, how to go on', async () => {
  const kube = new FailingKube();
  const plan = planOf('v1', 'v2');
  kube.failOn = (o) => o.kind === 'VirtualService' && o.metadata.annotations?.['mesh-release.io/stage'] === 'shift-50';
  const failed = await run(kube, plan);
  expect(failed.error?.exitCode).toBe(EXIT_UNSAFE);
  expect(failed.error?.message).toContain('socket hang up');
  expect(failed.error?.message).not.toContain('where it was before this step');
  expect(failed.error?.message).toContain('. The release is between stage shift-10 and stage shift-50 (part of shift-50 may be applied): '
    + 'run the command again to go on from there, or `mesh-release abort` to roll it back');
  expect(kube.record().applying).toBe('shift-50');

  kube.failOn = undefined;
  const again = await run(kube, plan);
  expect(again.exit).toBe(0);
  expect(again.analyzed[0]).toBe('shift-50');
});

test('a request failing before anything of the run was applied keeps its message (the release is where it was)', async () => {
  const kube = new FailingKube();
  const plan = planOf('v1', 'v2');
  expect((await run(kube, plan, { options: { to: 'shift-10' } })).exit).toBe(0);
  kube.find = async () => {
    throw new KubeApiError(403, 'Forbidden', 'get leases.coordination.k8s.io "mesh-release.web" in namespace "shop": 403 Forbidden');
  };
  const refused = await run(kube, plan);
  expect(refused.error?.exitCode).toBe(EXIT_UNSAFE);
  expect(refused.error?.message).toContain('(the release is where it was before this step: `mesh-release status`)');
});
