/**
 * The kubeconfig found and read as kubectl does: --kubeconfig, KUBECONFIG (merged, first wins), ~/.kube/config;
 * --context; each kind of credential; clear errors for what is missing.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadKubeAccess } from '../../src/rollout/kube-config';
import { tmpDir } from '../cli/_cli';

function write(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const CONFIG_A = `
apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: { server: "https://a.example:6443/", certificate-authority: ca.crt }
- name: shared
  cluster: { server: "https://shared-from-a.example" }
users:
- name: token-user
  user: { token: abc }
- name: cert-user
  user: { client-certificate-data: ${Buffer.from('CERT').toString('base64')}, client-key: key.pem }
contexts:
- name: a
  context: { cluster: a, user: token-user, namespace: shop }
- name: cert
  context: { cluster: shared, user: cert-user }
current-context: a
`;

const CONFIG_B = `
clusters:
- name: shared
  cluster: { server: "https://shared-from-b.example" }
- name: b
  cluster: { server: "http://127.0.0.1:8080", insecure-skip-tls-verify: true }
users:
- name: basic
  user: { username: admin, password: secret }
contexts:
- name: b
  context: { cluster: b, user: basic }
current-context: b
`;

describe('loadKubeAccess', () => {
  const dir = tmpDir();
  write(dir, 'ca.crt', 'CA');
  write(dir, 'key.pem', 'KEY');
  const a = write(dir, 'a.yaml', CONFIG_A);
  const b = write(dir, 'b.yaml', CONFIG_B);

  test('--kubeconfig: its current context, cluster, namespace; paths relative to the file', async () => {
    const access = loadKubeAccess({ kubeconfig: a, env: {} });
    expect(access).toMatchObject({ server: 'https://a.example:6443', context: 'a', namespace: 'shop', insecureSkipTlsVerify: false });
    expect(String(access.ca)).toBe('CA');
    expect((await access.credentials()).headers).toEqual({ Authorization: 'Bearer abc' });
  });

  test('KUBECONFIG: files merged, the first to define a name or current-context wins, missing files ignored', async () => {
    const env = { KUBECONFIG: [path.join(dir, 'missing.yaml'), a, b].join(path.delimiter) };
    expect(loadKubeAccess({ env }).context).toBe('a');
    const cert = loadKubeAccess({ env, context: 'cert' });
    expect(cert.server).toBe('https://shared-from-a.example');
    const credentials = await cert.credentials();
    expect([String(credentials.cert), String(credentials.key)]).toEqual(['CERT', 'KEY']);
    const basic = loadKubeAccess({ env, context: 'b' });
    expect(basic).toMatchObject({ server: 'http://127.0.0.1:8080', insecureSkipTlsVerify: true });
    expect((await basic.credentials()).headers).toEqual({ Authorization: `Basic ${Buffer.from('admin:secret').toString('base64')}` });
  });

  test('~/.kube/config without KUBECONFIG', () => {
    const home = tmpDir();
    fs.mkdirSync(path.join(home, '.kube'));
    fs.copyFileSync(b, path.join(home, '.kube', 'config'));
    expect(loadKubeAccess({ env: { HOME: home } }).context).toBe('b');
  });

  test('an exec credential plugin: run once, its token cached until it expires', async () => {
    const counter = path.join(dir, 'runs');
    const plugin = write(dir, 'plugin.sh', `#!/bin/sh
echo x >> "${counter}"
echo "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"$TOKEN_PREFIX-$(echo "$KUBERNETES_EXEC_INFO" | grep -c ExecCredential)\\",\\"expirationTimestamp\\":\\"2999-01-01T00:00:00Z\\"}}"
`);
    fs.chmodSync(plugin, 0o755);
    const config = write(dir, 'exec.yaml', `
clusters: [{ name: c, cluster: { server: "https://c.example" } }]
users: [{ name: u, user: { exec: { apiVersion: client.authentication.k8s.io/v1, command: ./plugin.sh, env: [{ name: TOKEN_PREFIX, value: tok }] } } }]
contexts: [{ name: c, context: { cluster: c, user: u } }]
current-context: c
`);
    const access = loadKubeAccess({ kubeconfig: config, env: { PATH: process.env.PATH } });
    expect((await access.credentials()).headers).toEqual({ Authorization: 'Bearer tok-1' });
    expect((await access.credentials()).headers).toEqual({ Authorization: 'Bearer tok-1' });
    expect(fs.readFileSync(counter, 'utf8')).toBe('x\n');
  });

  test('fails without any kubeconfig', () => {
    expect(() => loadKubeAccess({ env: { HOME: tmpDir() } }))
      .toThrow('no kubeconfig: pass --kubeconfig <file>, set KUBECONFIG, or create ~/.kube/config (as kubectl reads them)');
  });

  test('fails on an unknown context, naming the contexts', () => {
    expect(() => loadKubeAccess({ kubeconfig: a, context: 'prod', env: {} }))
      .toThrow(`context 'prod' not found in ${a} (contexts: a, cert)`);
  });

  test('fails on a --kubeconfig that does not exist', () => {
    expect(() => loadKubeAccess({ kubeconfig: path.join(dir, 'nope.yaml'), env: {} })).toThrow(`--kubeconfig ${path.join(dir, 'nope.yaml')}: no such file`);
  });

  test('fails on a removed auth-provider, naming the replacement', () => {
    const config = write(dir, 'gcp.yaml', `
clusters: [{ name: c, cluster: { server: "https://c.example" } }]
users: [{ name: u, user: { auth-provider: { name: gcp } } }]
contexts: [{ name: c, context: { cluster: c, user: u } }]
current-context: c
`);
    expect(() => loadKubeAccess({ kubeconfig: config, env: {} })).toThrow("user 'u' authenticates with the auth-provider 'gcp', which kubectl no longer "
      + 'supports (since Kubernetes 1.26): use its exec credential plugin (e.g. gke-gcloud-auth-plugin, kubelogin) in the kubeconfig');
  });

  test('fails on a context whose cluster is missing', () => {
    const config = write(dir, 'broken.yaml', 'contexts: [{ name: c, context: { cluster: nowhere, user: u } }]\ncurrent-context: c\n');
    expect(() => loadKubeAccess({ kubeconfig: config, env: {} })).toThrow(`context 'c' of ${config}: cluster 'nowhere' not found`);
  });
});
