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

/**
 * A second driver and a Lease held by a driver on another machine (`holder`), whose clock is `skewMs` behind this
 * one's. `renewing`: the holder renews every quarter of the duration (by its clock). Time is virtual: `clock.sleep`
 * moves it.
 */
function heldLease(options: { skewMs: number; renewing: boolean; duration?: number }) {
  const duration = options.duration ?? 30;
  let now = Date.parse('2026-01-01T12:00:00Z');
  const holderTime = () => new Date(now - options.skewMs).toISOString();
  let lease: any = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'mesh-release.web', namespace: 'shop', resourceVersion: '7' },
    spec: { holderIdentity: 'ci-runner-2/4242/abc123', leaseDurationSeconds: duration, acquireTime: holderTime(), renewTime: holderTime(), leaseTransitions: 0 },
  };
  let lastRenewal = now;
  const replaced: any[] = [];
  const sleeps: number[] = [];
  const kube: any = {
    find: async () => lease,
    create: async () => {
      throw new Error('not expected: the Lease exists');
    },
    replace: async (o: any) => {
      replaced.push(o);
      lease = { ...o, metadata: { ...o.metadata, resourceVersion: String(Number(o.metadata.resourceVersion) + 1) } };
      return lease;
    },
  };
  const clock = {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
      if (options.renewing && now - lastRenewal >= (duration * 1000) / 4) {
        lastRenewal = now;
        lease = {
          ...lease,
          metadata: { ...lease.metadata, resourceVersion: String(Number(lease.metadata.resourceVersion) + 1) },
          spec: { ...lease.spec, renewTime: holderTime() },
        };
      }
    },
  };
  const messages: string[] = [];
  const events = { emit: (e: { message: string }) => messages.push(e.message) } as any;
  const start = now;
  return { kube, clock, events, messages, replaced, sleeps, elapsed: () => now - start };
}

const RELEASE = { name: 'web', namespace: 'shop' } as any;

describe('a Lease held by a driver whose clock differs (client-go leader election: observedTime + leaseDuration by the own clock)', () => {
  test('this clock 5 minutes ahead, the holder renewing: refused (exit 1) naming the holder, never taken over', async () => {
    const held = heldLease({ skewMs: 5 * 60_000, renewing: true });
    const acquiring = ReleaseLease.acquire(held.kube, RELEASE, 'driver-2', 30, held.events, held.clock);
    await expect(acquiring).rejects.toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(/^release web \(namespace shop\) is being driven by ci-runner-2\/4242\/abc123: it holds the Lease mesh-release\.web \(namespace shop\), renewed while this driver watched it for 30 s/),
    });
    expect(held.replaced).toEqual([]);
    // Refused as soon as a renewal was seen, not after the whole duration.
    expect(held.elapsed()).toBeLessThan(30_000);
    expect(held.messages).toEqual(['the Lease mesh-release.web (namespace shop) held by ci-runner-2/4242/abc123 looks expired by this machine\'s clock '
      + '(renewed at 2026-01-01T11:55:00.000Z, duration 30 s): watching it for 30 s before taking it over, in case the two clocks differ']);
  });

  test('SIGINT/SIGTERM while watching a Lease that looks expired: stops at the next read, nothing taken over', async () => {
    const held = heldLease({ skewMs: 5 * 60_000, renewing: false });
    const controller = new AbortController();
    const sleep = held.clock.sleep;
    held.clock.sleep = async (ms: number) => {
      await sleep(ms);
      controller.abort('SIGINT received');
    };
    await expect(ReleaseLease.acquire(held.kube, RELEASE, 'driver-2', 30, held.events, held.clock, controller.signal))
      .rejects.toMatchObject({ name: 'Stopped', why: 'SIGINT received' });
    expect(held.replaced).toEqual([]);
    expect(held.elapsed()).toBeLessThan(30_000);
  });

  test('this clock 5 minutes ahead, the holder gone: taken over once unchanged for its duration by this clock, and says so', async () => {
    const held = heldLease({ skewMs: 5 * 60_000, renewing: false });
    const lease = await ReleaseLease.acquire(held.kube, RELEASE, 'driver-2', 30, held.events, held.clock);
    expect(lease.identity).toBe('driver-2');
    expect(held.elapsed()).toBeGreaterThanOrEqual(30_000);
    expect(held.replaced).toHaveLength(1);
    expect(held.replaced[0].spec).toMatchObject({ holderIdentity: 'driver-2', leaseTransitions: 1 });
    expect(held.messages[1]).toBe('taking over the Lease mesh-release.web (namespace shop) from ci-runner-2/4242/abc123: '
      + 'not renewed since 2026-01-01T11:55:00.000Z (unchanged while watched for 30 s)');
  });

  test('renewed recently by this clock: refused at once (no watching)', async () => {
    const held = heldLease({ skewMs: 10_000, renewing: true });
    await expect(ReleaseLease.acquire(held.kube, RELEASE, 'driver-2', 30, held.events, held.clock)).rejects.toMatchObject({
      exitCode: 1,
      message: 'release web (namespace shop) is being driven by ci-runner-2/4242/abc123: it holds the Lease mesh-release.web (namespace shop), '
        + 'renewed at 2026-01-01T11:59:50.000Z (expires in 20 s unless renewed). Wait for it to end, or stop it '
        + '(SIGINT/SIGTERM: it stops after its current step and releases the Lease).',
    });
    expect(held.sleeps).toEqual([]);
    expect(held.replaced).toEqual([]);
  });
});
