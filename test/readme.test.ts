import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
// The jest transform (esbuild) that runs the tests runs the snippets too: loading TypeScript for it cost ~0.5 s.
import { transpileTypeScript } from './_transform';


/** The ```ts blocks of the README, which users copy: they must type-check and run. */
const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
const snippets = [...README.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);

describe('README', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'readme-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('has the quick start snippets', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(3);
    expect(snippets[0]).toContain("import { MeshRelease, ReleasePlan } from 'cdk8s-mesh-release';");
  });

  // The snippets are type-checked by test/typecheck.test.ts.

  // Snippets that declare jest tests (the CI example) are type-checked above; running them here would nest tests.
  const runnable = snippets.map((code, i) => [i, code] as const).filter(([, code]) => !/\btest(\.each)?\(/.test(code));
  test.each(runnable)('snippet %d runs and synthesizes', (i, code) => {
    const outdir = join(dir, `out-${i}`);
    process.env.CDK8S_OUTDIR = outdir;
    const js = transpileTypeScript(code as string, `snippet-${i}.ts`).code;
    const run = new Function('require', 'exports', 'module', 'process', js);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = (id: string) => require(id === 'cdk8s-mesh-release' ? '../src' : id);
    const module = { exports: {} };
    // esbuild's CommonJS output assigns module.exports when a snippet exports something.
    expect(() => run(load, module.exports, module, process)).not.toThrow();
    delete process.env.CDK8S_OUTDIR;
    if ((code as string).includes('app.synth()')) {
      // One file per chart, named after it.
      const charts = [...(code as string).matchAll(/new Chart\(app, '([^']+)'/g)].map((m) => `${m[1]}.k8s.yaml`);
      expect(readdirSync(outdir)).toEqual(charts);
    }
  });
});
