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
    const kube = new KubeClient(loadKubeAccess({ kubeconfig }), 5_000, [1, 1, 1]);
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
