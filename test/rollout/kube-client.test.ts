/**
 * The API client against a local HTTP server that reads DeleteOptions as kube-apiserver does: from the body when
 * the request has one, else from the query (kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/endpoints/handlers/delete.go).
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { KubeClient } from '../../src/rollout/kube-client';

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
    const path = '/apis/apps/v1/namespaces/shop/deployments/web-v0';
    live.add(path);
    expect(await client.delete('apps/v1', 'Deployment', 'shop', 'web-v0', true)).toBe(true);
    expect(live.has(path)).toBe(true);
    expect(await client.delete('apps/v1', 'Deployment', 'shop', 'web-v0')).toBe(true);
    expect(live.has(path)).toBe(false);
    expect(await client.delete('apps/v1', 'Deployment', 'shop', 'web-v0')).toBe(false);
  });
});
