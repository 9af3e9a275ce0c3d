/**
 * A simulated kubelet and scheduler for the integration tests (the envtest control plane has neither): one Node,
 * Ready, with a large allocatable and a renewed Lease; every unscheduled pod is bound to it, then reported Running
 * with an IP and, after `readyAfterMs`, Ready (its containers ready: the `Ready` and `ContainersReady` conditions,
 * which the EndpointSlice and Deployment controllers read); a pod being deleted is finished (deleted with grace
 * period 0) after `terminateAfterMs`, standing in for preStop and the grace period. No containers run.
 * Level-triggered like a kubelet: every second it looks at each pod it knows (from its watch) and takes the next
 * step that pod needs, so a request that failed (a busy API server) is simply made again.
 */
import { ApiError, Kube } from './_kube';

export interface KubeletOptions {
  /** Time from Running to Ready. @default 500 */
  readonly readyAfterMs?: number;
  /** Time from the deletion request to the pod's removal. @default 200 */
  readonly terminateAfterMs?: number;
}

export const NODE_NAME = 'sim-node';

export class SimulatedKubelet {
  /** Registers the node and starts handling pods; resolves once the first list of pods was handled. */
  static async start(kube: Kube, options: KubeletOptions = {}): Promise<SimulatedKubelet> {
    const kubelet = new SimulatedKubelet(kube, options.readyAfterMs ?? 500, options.terminateAfterMs ?? 200);
    await kubelet.registerNode();
    await kubelet.listAndWatch();
    kubelet.heartbeat = setInterval(() => kubelet.renew().catch((e) => kubelet.fail(e)), 5_000);
    kubelet.resync = setInterval(() => kubelet.pods.forEach((pod) => kubelet.handle(pod)), 1_000);
    return kubelet;
  }

  /** Errors met while handling pods other than a busy API server's (a test asserts there are none). */
  readonly errors: Error[] = [];
  private heartbeat?: NodeJS.Timeout;
  private resync?: NodeJS.Timeout;
  private watch?: { stop: () => void };
  private readonly timers = new Set<NodeJS.Timeout>();
  /** The pods as last seen, by UID. */
  private readonly pods = new Map<string, any>();
  /** Pods with a request under way (one at a time per pod), by UID. */
  private readonly busy = new Set<string>();
  /** When each pod was first reported Running, by UID. */
  private readonly runningSince = new Map<string, number>();
  private readonly ips = new Map<string, string>();
  private nextIp = 1;
  private stopped = false;

  private constructor(private readonly kube: Kube, private readonly readyAfterMs: number, private readonly terminateAfterMs: number) {}

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearInterval(this.resync);
    this.watch?.stop();
    this.timers.forEach(clearTimeout);
  }

  private fail(e: unknown): void {
    if (!this.stopped) {
      this.errors.push(e as Error);
    }
  }

  private async registerNode(): Promise<void> {
    await this.kube.create({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: NODE_NAME, labels: { 'kubernetes.io/hostname': NODE_NAME, 'kubernetes.io/os': 'linux' } },
    });
    await this.renew();
  }

  /** Node status (Ready, capacity) and the node's Lease: the node lifecycle controller would evict its pods otherwise. */
  private async renew(): Promise<void> {
    const now = new Date().toISOString();
    const capacity = { 'cpu': '1000', 'memory': '4000Gi', 'pods': '10000', 'ephemeral-storage': '10000Gi' };
    await this.kube.mergePatch('v1', 'Node', undefined, NODE_NAME, {
      status: {
        capacity,
        allocatable: capacity,
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: NODE_NAME }],
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'simulated', lastHeartbeatTime: now, lastTransitionTime: now }],
      },
    }, 'status');
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: NODE_NAME, namespace: 'kube-node-lease' },
      spec: { holderIdentity: NODE_NAME, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') },
    };
    await this.kube.apply(lease);
  }

  private async listAndWatch(): Promise<void> {
    if (this.stopped) {
      return;
    }
    const { items, resourceVersion } = await this.kube.list('v1', 'Pod');
    this.pods.clear();
    items.forEach((pod) => this.handle(pod));
    this.watch = this.kube.watch('v1', 'Pod', resourceVersion, (type, pod) => {
      if (type === 'ERROR') {
        // An expired resourceVersion: list again.
        this.watch?.stop();
        this.relist();
      } else if (type === 'DELETED') {
        this.pods.delete(pod.metadata.uid);
      } else if (type !== 'BOOKMARK') {
        this.handle(pod);
      }
    }, () => this.relist());
  }

  private relist(): void {
    if (!this.stopped) {
      this.later(200, () => this.listAndWatch());
    }
  }

  private later(ms: number, action: () => Promise<unknown>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action().catch((e) => this.fail(e));
    }, ms);
    this.timers.add(timer);
  }

  /** Takes the next step a pod needs: finish its deletion, bind it, report it Running, then Ready. */
  private handle(pod: any): void {
    const uid = pod.metadata.uid;
    this.pods.set(uid, pod);
    if (this.stopped || this.busy.has(uid)) {
      return;
    }
    const { name, namespace } = pod.metadata;
    const ready = (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
    if (pod.metadata.deletionTimestamp) {
      this.step(uid, this.terminateAfterMs, () => this.kube.request('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`,
        { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid } }));
    } else if (!pod.spec.nodeName) {
      this.step(uid, 0, () => this.kube.request('POST', `/api/v1/namespaces/${namespace}/pods/${name}/binding`,
        { apiVersion: 'v1', kind: 'Binding', metadata: { name, uid }, target: { apiVersion: 'v1', kind: 'Node', name: NODE_NAME } }));
    } else if (pod.spec.nodeName === NODE_NAME && pod.status?.phase !== 'Running') {
      this.step(uid, 0, () => this.setStatus(pod, this.ipOf(uid), false).then(() => {
        if (!this.runningSince.has(uid)) {
          this.runningSince.set(uid, Date.now());
        }
      }));
    } else if (pod.spec.nodeName === NODE_NAME && !ready) {
      const since = this.runningSince.get(uid) ?? Date.now();
      this.runningSince.set(uid, since);
      this.step(uid, Math.max(0, since + this.readyAfterMs - Date.now()), () => this.setStatus(pod, this.ipOf(uid), true));
    }
  }

  /** Runs one request for a pod after `ms`; the pod takes its next step on a later event or resync. */
  private step(uid: string, ms: number, request: () => Promise<unknown>): void {
    this.busy.add(uid);
    this.later(ms, () => request().catch(ignoreGone).catch((e) => {
      // A busy or restarting API server: the resync tries again.
      if (!(e instanceof ApiError) || (e.status !== 429 && e.status < 500)) {
        throw e;
      }
    }).finally(() => this.busy.delete(uid)));
  }

  private ipOf(uid: string): string {
    let ip = this.ips.get(uid);
    if (!ip) {
      ip = `10.244.${Math.floor(this.nextIp / 250)}.${(this.nextIp % 250) + 1}`;
      this.nextIp++;
      this.ips.set(uid, ip);
    }
    return ip;
  }

  private async setStatus(pod: any, ip: string, ready: boolean): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const condition = (type: string, status: boolean) => ({ type, status: status ? 'True' : 'False', lastTransitionTime: now });
    const startedAt = now;
    await this.kube.mergePatch('v1', 'Pod', pod.metadata.namespace, pod.metadata.name, {
      metadata: { uid: pod.metadata.uid },
      status: {
        phase: 'Running',
        hostIP: '127.0.0.1',
        podIP: ip,
        podIPs: [{ ip }],
        startTime: now,
        conditions: [condition('PodScheduled', true), condition('Initialized', true), condition('ContainersReady', ready), condition('Ready', ready)],
        containerStatuses: (pod.spec.containers ?? []).map((c: any) => ({
          name: c.name,
          image: c.image,
          imageID: `sim://${c.image}`,
          containerID: `sim://${pod.metadata.uid}/${c.name}`,
          ready,
          started: true,
          restartCount: 0,
          state: { running: { startedAt } },
        })),
      },
    }, 'status');
  }
}

/** A pod deleted (404) or replaced (409: the UID precondition) meanwhile: nothing to do. */
function ignoreGone(e: any): void {
  if (e?.status !== 404 && e?.status !== 409) {
    throw e;
  }
}
