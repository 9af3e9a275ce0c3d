/**
 * One driver per release at a time: a `coordination.k8s.io/v1` Lease in the release's namespace
 * (https://kubernetes.io/docs/concepts/architecture/leases/), held while the driver runs and renewed every quarter of
 * its duration. A held Lease whose `renewTime` is recent by this machine's clock is refused at once, naming its holder.
 * One that LOOKS expired by this machine's clock is not trusted on that alone: the holder's `renewTime` was written
 * by the holder's clock, and a driver whose clock runs 5 minutes ahead would take over a live Lease. As client-go's
 * leader election does (k8s.io/client-go/tools/leaderelection/leaderelection.go, `isLeaseValid`:
 * `observedTime + leaseDuration` after now, `observedTime` stamped by its own clock when the record was seen to
 * change; https://github.com/kubernetes/client-go/blob/master/tools/leaderelection/leaderelection.go), the driver
 * watches it (re-reads it) for its `leaseDurationSeconds` on its own clock: changed meanwhile, it is refused naming
 * the holder; unchanged, it is taken over (the driver says from whom). One whose holder was a process of this machine
 * that no longer exists (a driver killed with SIGKILL, run again at once) is taken over at once. Every write carries
 * the `resourceVersion` read: two drivers taking one Lease at once cannot both win.
 */
import * as os from 'os';
import { KubeApiError, KubeClient } from './kube-client';
import { RolloutEvents } from './reporter';
import { throwIfStopped } from './waits';
import { RELEASE_LABEL, rolloutObjectName } from '../_conventions';
import { CliError, EXIT_UNSAFE } from '../cli/errors';
import { ReleaseRef } from '../cli/release-view';

/** Time as `acquire` sees it (tests skew and speed it up). */
export interface LeaseClock {
  /** This machine's wall clock, in milliseconds. */
  now(): number;
  sleep(milliseconds: number): Promise<void>;
}

const SYSTEM_LEASE_CLOCK: LeaseClock = {
  now: () => Date.now(),
  sleep: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)),
};

/** `<host>/<pid>/<random>`: who holds a Lease. */
export function driverIdentity(): string {
  return `${os.hostname()}/${process.pid}/${Math.random().toString(36).slice(2, 8)}`;
}

/** Lease times are MicroTime: RFC 3339 with microseconds. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Whether the holder is a process of this machine that is gone. */
function holderIsDeadHere(holder: string): boolean {
  const [host, pid] = holder.split('/');
  if (host !== os.hostname() || !/^\d+$/.test(pid ?? '') || Number(pid) === process.pid) {
    return false;
  }
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export class ReleaseLease {
  /**
   * Takes the Lease of `release`, or throws a `CliError` (exit 1) naming its holder. A Lease that looks expired by
   * this machine's clock is watched for its duration first (see above): `acquire` may take that long.
   */
  static async acquire(kube: KubeClient, release: ReleaseRef, identity: string, durationSeconds: number,
    events: RolloutEvents, clock: LeaseClock = SYSTEM_LEASE_CLOCK, signal?: AbortSignal): Promise<ReleaseLease> {
    const name = rolloutObjectName(release.name);
    const where = `Lease ${name} (namespace ${release.namespace})`;
    const read = () => kube.find('coordination.k8s.io/v1', 'Lease', release.namespace, name);
    for (let attempt = 0; ; attempt++) {
      const current = await read();
      const holder: string | undefined = current?.spec?.holderIdentity || undefined;
      const duration = current?.spec?.leaseDurationSeconds ?? durationSeconds;
      const dead = holder !== undefined && holderIsDeadHere(holder);
      if (holder !== undefined && !dead) {
        const renewed = Date.parse(current.spec?.renewTime ?? current.spec?.acquireTime ?? '');
        const expiresIn = Number.isNaN(renewed) ? 0 : (renewed + duration * 1000 - clock.now()) / 1000;
        if (expiresIn > 0) {
          throw new CliError(`release ${release.name} (namespace ${release.namespace}) is being driven by ${holder}: it holds the ${where}, `
            + `renewed at ${current.spec.renewTime} (expires in ${Math.ceil(expiresIn)} s unless renewed). Wait for it to end, or stop it `
            + '(SIGINT/SIGTERM: it stops after its current step and releases the Lease).', EXIT_UNSAFE);
        }
        events.emit({
          event: 'lease',
          message: `the ${where} held by ${holder} looks expired by this machine's clock (renewed at ${current.spec?.renewTime ?? 'never'}, `
            + `duration ${duration} s): watching it for ${duration} s before taking it over, in case the two clocks differ`,
        });
        const changed = await watchUnchanged(read, current, duration * 1000, clock, signal);
        if (changed !== undefined) {
          if (changed.lease?.spec?.holderIdentity) {
            throw new CliError(`release ${release.name} (namespace ${release.namespace}) is being driven by ${changed.lease.spec.holderIdentity}: `
              + `it holds the ${where}, renewed while this driver watched it for ${duration} s (renewTime ${changed.lease.spec.renewTime} by `
              + 'its clock: the two clocks differ). Wait for it to end, or stop it (SIGINT/SIGTERM: it stops after its current step and releases the Lease).',
            EXIT_UNSAFE);
          }
          continue; // given up or deleted meanwhile: read it again
        }
      }
      const now = new Date(clock.now());
      const spec = {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (current?.spec?.leaseTransitions ?? -1) + 1,
      };
      try {
        if (!current) {
          const created = await kube.create({
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace: release.namespace, labels: { [RELEASE_LABEL]: release.name } },
            spec,
          });
          events.emit({ event: 'lease', message: `holding the ${where} as ${identity}` });
          return new ReleaseLease(kube, created, identity, durationSeconds);
        }
        const taken = await kube.replace({ ...current, spec });
        if (holder !== undefined) {
          const why = dead ? `its process is gone from this machine (${os.hostname()})`
            : `not renewed since ${current.spec.renewTime} (unchanged while watched for ${duration} s)`;
          events.emit({ event: 'lease', message: `taking over the ${where} from ${holder}: ${why}` });
        } else {
          events.emit({ event: 'lease', message: `holding the ${where} as ${identity}` });
        }
        return new ReleaseLease(kube, taken, identity, durationSeconds);
      } catch (e) {
        // Another driver created or took it between our read and write: read again (it now holds it).
        if (e instanceof KubeApiError && e.status === 409 && attempt < 3) {
          continue;
        }
        throw e;
      }
    }
  }

  private timer?: NodeJS.Timeout;
  private lost?: string;

  private constructor(private readonly kube: KubeClient, private lease: any, readonly identity: string, private readonly durationSeconds: number) {}

  /**
   * Renews every quarter of the duration; calls `onLost` once if another holder took it, or when a renewal failed and
   * the next one would come at or after the Lease's expiry (another driver may take it over then): the driver stops
   * before it could act alongside a new holder, not once the Lease has already expired.
   */
  keepRenewed(onLost: (why: string) => void): void {
    let lastRenewed = Date.now();
    const interval = Math.max(500, (this.durationSeconds * 1000) / 4);
    this.timer = setInterval(() => {
      void this.renew().then(() => {
        lastRenewed = Date.now();
      }).catch((e) => {
        const why = e instanceof LeaseLost ? e.message : `cannot renew the Lease ${this.lease.metadata.name}: ${(e as Error).message}`;
        if (e instanceof LeaseLost || Date.now() - lastRenewed + interval >= this.durationSeconds * 1000) {
          this.lost = why;
          this.stop();
          onLost(why);
        }
      });
    }, interval);
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    const spec = { ...this.lease.spec, renewTime: microTime(new Date()) };
    try {
      this.lease = await this.kube.replace({ ...this.lease, spec });
    } catch (e) {
      if (e instanceof KubeApiError && (e.status === 409 || e.status === 404)) {
        const now = await this.kube.find('coordination.k8s.io/v1', 'Lease', this.lease.metadata.namespace, this.lease.metadata.name);
        if (now?.spec?.holderIdentity !== this.identity) {
          throw new LeaseLost(`lost the Lease ${this.lease.metadata.name} (namespace ${this.lease.metadata.namespace}) to `
            + `${now?.spec?.holderIdentity ?? 'nobody (deleted)'}`);
        }
        this.lease = now;
        return this.renew();
      }
      throw e;
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops renewing and gives the Lease up (its holder cleared), unless it was lost. */
  async release(): Promise<void> {
    this.stop();
    if (this.lost) {
      return;
    }
    const current = await this.kube.find('coordination.k8s.io/v1', 'Lease', this.lease.metadata.namespace, this.lease.metadata.name);
    if (current?.spec?.holderIdentity === this.identity) {
      const { holderIdentity: _, ...spec } = current.spec;
      await this.kube.replace({ ...current, spec });
    }
  }
}

class LeaseLost extends Error {}

/**
 * Re-reads the Lease every quarter of `milliseconds` (at most every 2 s) until `milliseconds` have passed on this
 * machine's clock: `{ lease }` as read when it changed (another write: its `resourceVersion` or its `spec`; undefined
 * when deleted), or undefined when it stayed as `seen`.
 */
async function watchUnchanged(read: () => Promise<any>, seen: any, milliseconds: number, clock: LeaseClock,
  signal?: AbortSignal): Promise<{ lease: any } | undefined> {
  const fingerprint = (lease: any) => JSON.stringify([lease?.metadata?.resourceVersion, lease?.spec]);
  const before = fingerprint(seen);
  const until = clock.now() + milliseconds;
  const step = Math.min(2000, Math.max(100, milliseconds / 4));
  for (let left = milliseconds; left > 0; left = until - clock.now()) {
    await clock.sleep(Math.min(step, left));
    // SIGINT/SIGTERM during the watch: stop at once (nothing taken, nothing applied), not after the whole duration.
    if (signal) {
      throwIfStopped(signal);
    }
    const now = await read();
    if (fingerprint(now) !== before) {
      return { lease: now };
    }
  }
  return undefined;
}
