/**
 * The driver's REST client (rollout/kube-client.ts) against local HTTP servers standing for the API server:
 * - a delete reads its DeleteOptions as kube-apiserver does: from the body when the request has one, else from the
 *   query (kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/endpoints/handlers/delete.go), so a dry run
 *   deletes nothing;
 * - an exec credential plugin's token refused with 401 before its expirationTimestamp (revoked, rotated early) is
 *   fetched again and the request retried once, as client-go's exec authenticator refreshes on a 401.
 */
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import { KubeApiError, KubeClient } from '../../src/rollout/kube-client';
import { loadKubeAccess } from '../../src/rollout/kube-config';
import { tmpDir } from '../cli/_cli';

/** An API server that accepts only `Bearer <accepted.token>` and records the Authorization of every request. */
async function apiServer(accepted: { token: string }) {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(String(req.headers.authorization));
    const ok = req.headers.authorization === `Bearer ${accepted.token}`;
    res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(ok ? { kind: 'Namespace', metadata: { name: 'shop' } }
      : { kind: 'Status', status: 'Failure', reason: 'Unauthorized', message: 'Unauthorized', code: 401 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

/** A kubeconfig whose user runs a plugin printing `tok-<n>` on its n-th run, expiring at `expires`. */
function execKubeconfig(server: string, expires: string): { kubeconfig: string; runs: () => number } {
  const dir = tmpDir();
  const counter = path.join(dir, 'runs');
  const plugin = path.join(dir, 'plugin.sh');
  fs.writeFileSync(plugin, `#!/bin/sh
echo x >> "${counter}"
n=$(wc -l < "${counter}" | tr -d ' ')
echo "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"tok-$n\\",\\"expirationTimestamp\\":\\"${expires}\\"}}"
`);
  fs.chmodSync(plugin, 0o755);
  const kubeconfig = path.join(dir, 'config');
  fs.writeFileSync(kubeconfig, `
clusters: [{ name: c, cluster: { server: "${server}" } }]
users: [{ name: u, user: { exec: { apiVersion: client.authentication.k8s.io/v1, command: ./plugin.sh } } }]
contexts: [{ name: c, context: { cluster: c, user: u } }]
current-context: c
`);
  return { kubeconfig, runs: () => (fs.existsSync(counter) ? fs.readFileSync(counter, 'utf8').split('\n').length - 1 : 0) };
}

describe('KubeClient with an exec credential plugin', () => {
  test('a 401 to a cached token that has not expired: the plugin is run again and the request retried once', async () => {
    const accepted = { token: 'tok-1' };
    const api = await apiServer(accepted);
    const { kubeconfig, runs } = execKubeconfig(api.url, '2999-01-01T00:00:00Z');
    const kube = new KubeClient(loadKubeAccess({ kubeconfig, env: { PATH: process.env.PATH } }));
    try {
      expect(await kube.request('GET', '/api/v1/namespaces/shop')).toMatchObject({ metadata: { name: 'shop' } });
      // The token is revoked (rotated early): the API server now takes only the plugin's next one.
      accepted.token = 'tok-2';
      expect(await kube.request('GET', '/api/v1/namespaces/shop')).toMatchObject({ metadata: { name: 'shop' } });
      expect(api.seen).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2']);
      expect(runs()).toBe(2);
    } finally {
      kube.close();
      await api.close();
    }
  });

  test('a 401 to a fresh token too: the error, after one retry (no loop)', async () => {
    const api = await apiServer({ token: 'never' });
    const { kubeconfig, runs } = execKubeconfig(api.url, '2999-01-01T00:00:00Z');
    const kube = new KubeClient(loadKubeAccess({ kubeconfig, env: { PATH: process.env.PATH } }));
    try {
      await expect(kube.request('GET', '/api/v1/namespaces/shop', undefined, undefined, 'get namespaces "shop"'))
        .rejects.toThrow(new KubeApiError(401, 'Unauthorized', 'get namespaces "shop": 401 Unauthorized: Unauthorized'));
      expect(api.seen).toEqual(['Bearer tok-1', 'Bearer tok-2']);
      expect(runs()).toBe(2);
    } finally {
      kube.close();
      await api.close();
    }
  });

  test('a token whose expirationTimestamp is less than 10 s away is fetched again before the request', async () => {
    const api = await apiServer({ token: 'tok-2' });
    const { kubeconfig, runs } = execKubeconfig(api.url, new Date(Date.now() + 5000).toISOString());
    const access = loadKubeAccess({ kubeconfig, env: { PATH: process.env.PATH } });
    expect((await access.credentials()).headers).toEqual({ Authorization: 'Bearer tok-1' });
    const kube = new KubeClient(access);
    try {
      expect(await kube.request('GET', '/api/v1/namespaces/shop')).toMatchObject({ metadata: { name: 'shop' } });
      expect(api.seen).toEqual(['Bearer tok-2']);
      expect(runs()).toBe(2);
    } finally {
      kube.close();
      await api.close();
    }
  });
});

describe('KubeClient.delete', () => {
  let server: http.Server;
  let client: KubeClient;
  const live = new Set<string>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.setHeader('Content-Type', 'application/json');
        const url = new URL(req.url ?? '/', 'http://x');
        if (url.pathname === '/apis/apps/v1') {
          res.end(JSON.stringify({ resources: [{ name: 'deployments', kind: 'Deployment', namespaced: true }] }));
          return;
        }
        const body = Buffer.concat(chunks).toString();
        const options = body ? JSON.parse(body) : { dryRun: url.searchParams.getAll('dryRun') };
        if (!live.has(url.pathname)) {
          res.statusCode = 404;
          res.end(JSON.stringify({ kind: 'Status', reason: 'NotFound', message: 'not found' }));
          return;
        }
        if (!(options.dryRun ?? []).includes('All')) {
          live.delete(url.pathname);
        }
        res.end(JSON.stringify({ kind: 'Status', status: 'Success' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const access = {
      server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      context: 'test',
      insecureSkipTlsVerify: false,
      files: [],
      credentials: async () => ({}),
    };
    client = new KubeClient(access as any);
  });

  afterAll(async () => {
    client.close();
    await new Promise((resolve) => server.close(resolve));
  });

  test('a dry run deletes nothing; the delete then does', async () => {
    const url = '/apis/apps/v1/namespaces/shop/deployments/web-v0';
    live.add(url);
    expect(await client.delete('apps/v1', 'Deployment', 'shop', 'web-v0', true)).toBe(true);
    expect(live.has(url)).toBe(true);
    expect(await client.delete('apps/v1', 'Deployment', 'shop', 'web-v0')).toBe(true);
    expect(live.has(url)).toBe(false);
    expect(await client.delete('apps/v1', 'Deployment', 'shop', 'web-v0')).toBe(false);
  });
});

describe('transient failures of the API server (a rolling update of the control plane, API Priority and Fairness, a load balancer)', () => {
  /** An API server answering each request with the next status of `script` (then 200), or closing the connection for 'drop'. */
  async function flaky(script: Array<number | 'drop'>) {
    const methods: string[] = [];
    const server = http.createServer((req, res) => {
      methods.push(String(req.method));
      req.resume();
      const next = script.shift() ?? 200;
      if (next === 'drop') {
        req.socket.destroy();
        return;
      }
      res.writeHead(next, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(next === 200 ? { kind: 'Namespace', metadata: { name: 'shop' } }
        : { kind: 'Status', status: 'Failure', reason: next === 429 ? 'TooManyRequests' : 'ServiceUnavailable', message: 'try again', code: next }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dir = tmpDir();
    const kubeconfig = path.join(dir, 'config');
    fs.writeFileSync(kubeconfig, `clusters: [{name: c, cluster: {server: "http://127.0.0.1:${(server.address() as AddressInfo).port}"}}]\n`
      + 'contexts: [{name: c, context: {cluster: c}}]\ncurrent-context: c\n');
    const kube = new KubeClient(loadKubeAccess({ kubeconfig }), { timeoutMs: 5_000, retryDelaysMs: [1, 1, 1] });
    return { kube, methods, close: () => { kube.close(); return new Promise((r) => server.close(r)); } };
  }

  test('a GET answered 503, then 429, is tried again: one blip does not end a rollout mid-stage', async () => {
    const api = await flaky([503, 429]);
    try {
      await expect(api.kube.request('GET', '/api/v1/namespaces/shop')).resolves.toMatchObject({ metadata: { name: 'shop' } });
      expect(api.methods).toEqual(['GET', 'GET', 'GET']);
    } finally {
      await api.close();
    }
  });

  test('a connection dropped once the server was reached is tried again; a server never reached is not (a wrong kubeconfig)', async () => {
    const api = await flaky([200, 'drop']);
    try {
      await api.kube.request('GET', '/api/v1/namespaces/shop');
      await expect(api.kube.request('PATCH', '/api/v1/namespaces/shop', {}, 'application/apply-patch+yaml')).resolves.toMatchObject({ kind: 'Namespace' });
      expect(api.methods).toEqual(['GET', 'PATCH', 'PATCH']);
    } finally {
      await api.close();
    }
  });

  test('a POST or PUT is not tried again (it may have been done), and a lasting failure is an error after the retries', async () => {
    const api = await flaky([503, 503, 503, 503, 503, 503]);
    try {
      await expect(api.kube.request('POST', '/api/v1/namespaces', {})).rejects.toThrow(/503 ServiceUnavailable: try again/);
      expect(api.methods).toEqual(['POST']);
      await expect(api.kube.request('GET', '/api/v1/namespaces/shop')).rejects.toThrow(/503 ServiceUnavailable: try again/);
      expect(api.methods).toEqual(['POST', 'GET', 'GET', 'GET', 'GET']);
    } finally {
      await api.close();
    }
  });
});

describe('KubeClient: get, list with its resourceVersion, status patches, field manager, watch', () => {
  let server: http.Server;
  let url: string;
  const seen: { method: string; path: string; contentType?: string; body: string }[] = [];
  /** What a watch request answers: lines written one chunk each (a line may span chunks), then the end. */
  let watchAnswer: { status: number; chunks: string[]; hold?: boolean } = { status: 200, chunks: [] };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://x');
        seen.push({ method: req.method!, path: `${u.pathname}${u.search}`, contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString() });
        res.setHeader('Content-Type', 'application/json');
        if (u.pathname === '/api/v1') {
          res.end(JSON.stringify({
            resources: [
              { name: 'pods', kind: 'Pod', namespaced: true },
              { name: 'pods/status', kind: 'Pod', namespaced: true },
              { name: 'nodes', kind: 'Node', namespaced: false },
            ],
          }));
        } else if (u.searchParams.get('watch') === 'true') {
          res.statusCode = watchAnswer.status;
          const write = (i: number) => {
            if (i < watchAnswer.chunks.length) {
              res.write(watchAnswer.chunks[i]);
              setTimeout(() => write(i + 1), 5);
            } else if (!watchAnswer.hold) {
              res.end();
            }
          };
          write(0);
        } else if (u.pathname === '/api/v1/namespaces/shop/pods/gone') {
          res.statusCode = 404;
          res.end(JSON.stringify({ kind: 'Status', reason: 'NotFound', message: 'pods "gone" not found' }));
        } else if (req.method === 'GET' && u.pathname === '/api/v1/namespaces/shop/pods') {
          res.end(JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: '42' }, items: [{ metadata: { name: 'a' } }] }));
        } else {
          res.end(JSON.stringify({ kind: 'Pod', metadata: { name: 'a' } }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    seen.length = 0;
  });

  const access = () => ({ server: url, context: 'test', insecureSkipTlsVerify: false, files: [], refreshable: false, credentials: async () => ({ headers: {} }) });

  /** Runs a watch of pods in `shop` until it ends; resolves to its events and its end. */
  function watched(kube: KubeClient): Promise<{ events: [string, string][]; end?: Error }> {
    return new Promise((resolve) => {
      const events: [string, string][] = [];
      kube.watch('v1', 'Pod', 'shop', '42', (type, o) => events.push([type, o?.metadata?.name]), (end) => resolve({ events, end }));
    });
  }

  test('get rejects a missing object with a 404 naming it; find resolves to undefined', async () => {
    const kube = new KubeClient(access());
    try {
      await expect(kube.get('v1', 'Pod', 'shop', 'gone'))
        .rejects.toThrow(new KubeApiError(404, 'NotFound', 'get pods "gone" in namespace "shop": 404 NotFound: pods "gone" not found'));
      expect(await kube.find('v1', 'Pod', 'shop', 'gone')).toBeUndefined();
      expect(await kube.get('v1', 'Pod', 'shop', 'a')).toMatchObject({ metadata: { name: 'a' } });
    } finally {
      kube.close();
    }
  });

  test('find of a kind the server does not serve is an error, not a missing object', async () => {
    const kube = new KubeClient(access());
    try {
      await expect(kube.find('v1', 'Bogus', 'shop', 'a'))
        .rejects.toThrow(new KubeApiError(404, 'NotFound', 'the API server serves no kind Bogus in v1 (is its CRD installed?)'));
    } finally {
      kube.close();
    }
  });

  test('listCollection gives the items and the resourceVersion to watch from', async () => {
    const kube = new KubeClient(access());
    try {
      expect(await kube.listCollection('v1', 'Pod', 'shop', 'app=web')).toEqual({ items: [{ metadata: { name: 'a' } }], resourceVersion: '42' });
      expect(seen.pop()!.path).toBe('/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb');
      expect(await kube.list('v1', 'Pod', 'shop')).toEqual([{ metadata: { name: 'a' } }]);
    } finally {
      kube.close();
    }
  });

  test('mergePatch of the status subresource', async () => {
    const kube = new KubeClient(access());
    try {
      await kube.mergePatch('v1', 'Node', undefined, 'n1', { status: { phase: 'Running' } }, 'status');
      await kube.mergePatch('v1', 'Pod', 'shop', 'a', { metadata: { labels: { a: 'b' } } });
      expect(seen.slice(-2)).toEqual([
        { method: 'PATCH', path: '/api/v1/nodes/n1/status', contentType: 'application/merge-patch+json', body: '{"status":{"phase":"Running"}}' },
        { method: 'PATCH', path: '/api/v1/namespaces/shop/pods/a', contentType: 'application/merge-patch+json', body: '{"metadata":{"labels":{"a":"b"}}}' },
      ]);
    } finally {
      kube.close();
    }
  });

  test('apply uses the field manager given, mesh-release by default', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'shop' } };
    const driver = new KubeClient(access());
    const other = new KubeClient(access(), { fieldManager: 'someone-else' });
    try {
      await driver.apply(pod, undefined);
      await other.apply(pod, undefined, true);
      expect(seen.filter((s) => s.method === 'PATCH').map((s) => s.path)).toEqual([
        '/api/v1/namespaces/shop/pods/a?fieldManager=mesh-release&force=true&fieldValidation=Strict',
        '/api/v1/namespaces/shop/pods/a?fieldManager=someone-else&force=true&fieldValidation=Strict&dryRun=All',
      ]);
    } finally {
      driver.close();
      other.close();
    }
  });

  test('watch: events split across chunks, bookmarks and errors passed on, then the end', async () => {
    watchAnswer = {
      status: 200,
      chunks: [
        '{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"MODI',
        'FIED","object":{"metadata":{"name":"a"}}}\n\n',
        '{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"50"}}}\n{"type":"DELETED","object":{"metadata":{"name":"a"}}}\n',
        '{"type":"ERROR","object":{"kind":"Status","code":410}}\n',
      ],
    };
    const kube = new KubeClient(access());
    try {
      expect(await watched(kube)).toEqual({ events: [['ADDED', 'a'], ['MODIFIED', 'a'], ['BOOKMARK', undefined], ['DELETED', 'a'], ['ERROR', undefined]], end: undefined });
      expect(seen.pop()!.path).toBe('/api/v1/namespaces/shop/pods?watch=true&allowWatchBookmarks=true&resourceVersion=42');
    } finally {
      kube.close();
    }
  });

  test('watch: an answer other than 200 ends it with the error', async () => {
    watchAnswer = { status: 410, chunks: ['{"kind":"Status","reason":"Expired","message":"too old resource version: 42 (50)"}'] };
    const kube = new KubeClient(access());
    try {
      expect(await watched(kube)).toEqual({
        events: [],
        end: new KubeApiError(410, 'Expired', 'watch pods in namespace "shop": 410 Expired: too old resource version: 42 (50)'),
      });
    } finally {
      kube.close();
    }
  });

  test('watch: a line that is not JSON ends it with an error (no exception thrown out of the stream)', async () => {
    watchAnswer = { status: 200, chunks: ['{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n', '<html>proxy error</html>\n'], hold: true };
    const kube = new KubeClient(access());
    try {
      expect(await watched(kube)).toEqual({
        events: [['ADDED', 'a']],
        end: new KubeApiError(0, undefined, 'watch pods in namespace "shop": not a watch event: <html>proxy error</html>'),
      });
    } finally {
      kube.close();
    }
  });

  test('watch: an exception of the event handler, or a line that is JSON but no event, ends it with that error', async () => {
    watchAnswer = { status: 200, chunks: ['{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n'], hold: true };
    const kube = new KubeClient(access());
    try {
      const ended = await new Promise<Error | undefined>((resolve) => kube.watch('v1', 'Pod', 'shop', '42', () => {
        throw new Error('handler failed');
      }, resolve));
      expect(ended).toEqual(new Error('handler failed'));
      watchAnswer = { status: 200, chunks: ['null\n'], hold: true };
      expect(await watched(kube)).toEqual({ events: [], end: new KubeApiError(0, undefined, 'watch pods in namespace "shop": not a watch event: null') });
    } finally {
      kube.close();
    }
  });

  test('watch: after stop(), no event and no end are reported, and the watch holds none of the requests\' sockets', async () => {
    watchAnswer = { status: 200, chunks: ['{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n'], hold: true };
    const kube = new KubeClient(access());
    try {
      const reported: string[] = [];
      const watches = Array.from({ length: 10 }, () => kube.watch('v1', 'Pod', 'shop', '42', (type) => reported.push(type), () => reported.push('end')));
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Ten watches held open: a request still gets through.
      expect(await kube.get('v1', 'Pod', 'shop', 'a')).toMatchObject({ metadata: { name: 'a' } });
      watches.forEach((w) => w.stop());
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(reported).toEqual(Array(10).fill('ADDED'));
    } finally {
      kube.close();
    }
  });
});

describe('KubeClient timeouts', () => {
  test('an answer that stops half-way fails after the timeout, saying so', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"kind":');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const access = { server: url, context: 'test', insecureSkipTlsVerify: false, files: [], refreshable: false, credentials: async () => ({ headers: {} }) };
    const kube = new KubeClient(access, { timeoutMs: 300 });
    try {
      await expect(kube.request('GET', '/api/v1/namespaces/shop', undefined, undefined, 'get namespaces "shop"'))
        .rejects.toThrow(new KubeApiError(0, undefined, `get namespaces "shop": no answer from ${url} within 0.3 s`));
    } finally {
      kube.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
