/**
 * The release's Lease (rollout/lease.ts) without a cluster: a driver whose renewals fail stops BEFORE the Lease
 * expires (another driver may take it over at expiry), not once it has expired.
 */
import { ReleaseLease } from '../../src/rollout/lease';

/** A KubeClient with only what the Lease uses: no Lease yet, creates succeed, every renewal fails. */
function failingRenewals(): any {
  return {
    find: async () => undefined,
    create: async (o: any) => ({ ...o, metadata: { ...o.metadata, resourceVersion: '1' } }),
    replace: async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
    },
  };
}

test('renewals failing: the driver is told the Lease is lost a quarter of its duration before it expires', async () => {
  jest.useFakeTimers({ now: 0 });
  try {
    const events = { emit: () => undefined } as any;
    const lease = await ReleaseLease.acquire(failingRenewals(), { name: 'web', namespace: 'shop' } as any, 'driver-1', 4, events);
    let lostAt: number | undefined;
    lease.keepRenewed(() => {
      lostAt = Date.now();
    });
    for (let t = 0; t < 6000 && lostAt === undefined; t += 250) {
      await jest.advanceTimersByTimeAsync(250);
    }
    expect(lostAt).toBeDefined();
    // At least one renewal interval (a quarter of the duration) before expiry: time to stop after the current step.
    expect(lostAt!).toBeLessThanOrEqual(3000);
  } finally {
    jest.useRealTimers();
  }
});
