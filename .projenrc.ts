import { cdk, cdk8s, javascript } from 'projen';

const project = new cdk8s.ConstructLibraryCdk8s({
  name: 'cdk8s-mesh-release',
  description: 'Zero-downtime, make-before-break releases on Kubernetes + Istio as cdk8s constructs.',
  author: 'cdk8s-mesh-release',
  authorAddress: 'dev@example.com',
  repositoryUrl: 'https://example.com/cdk8s-mesh-release.git',
  keywords: ['cdk8s', 'istio', 'kubernetes', 'canary', 'blue-green', 'zero-downtime'],
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,

  cdk8sVersion: '2.70.0',
  constructsVersion: '10.4.2',
  jsiiVersion: '~6.0.0',
  peerDeps: ['cdk8s-plus-28@^2.5.6'],
  // Non-jsii runtime dependencies travel inside the package. `kubernetes-models` too: `ManifestSchemas` (and
  // `ReleaseTesting`, `mesh-release check`) require() it to validate Kubernetes kinds, and jsii refuses a non-jsii
  // package in peerDependencies ("Unable to locate jsii assembly"), so an optional peer is not possible; bundled,
  // it is also the CommonJS 4.5 line the validator is written for (the newer majors are ESM-only). Cost: +1.5 MB packed.
  bundledDeps: ['commander@^12.1.0', 'ajv@^8.17.1', 'yaml@^2.8.0', '@bufbuild/cel@^0.6.1', 're2js@^2.10.0', 'kubernetes-models@^4.5.1'],
  bin: { 'mesh-release': 'lib/cli/main.js' },
  devDeps: [
    'cdk8s-plus-28@^2.5.6',
    'cdk8s-cli@^2.207.0',
    'fast-check@^4.3.0',
    'tinybench@^2.9.0',
    'tsconfig-paths@^4.2.0',
    'esbuild@^0.28.2',
    'esbuild-register@^3.6.0',
    '@jest/test-sequencer@^30.2.0',
  ],

  // Members marked `@internal` (e.g. `TrafficRouter._impl`, `ReleaseStage._setNext`) stay out of lib/*.d.ts, as
  // they stay out of the .jsii assembly: TypeScript users cannot start depending on them. jsii's "strict" tsconfig
  // rule set requires `stripInternal: false` (a public type that extends or names an `@internal` one would then
  // point at a declaration that is not emitted); test/public-surface.test.ts checks that the stripped
  // declarations stand on their own, so the tsconfig is validated with the "minimal" rule set instead.
  tsconfig: { compilerOptions: { stripInternal: true } },
  validateTsconfig: cdk.ValidateTsconfig.MINIMAL,

  // Nothing here publishes or runs GitHub workflows.
  github: false,
  release: false,
  depsUpgrade: false,

  jestOptions: {
    // `npm test` must fail on a changed snapshot; `npm run test:update` rewrites them.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      // Coverage instruments every module and costs ~15% of the suite's CPU: `npx jest --coverage` when wanted.
      collectCoverage: false,
      // Jest's default on N cores is N-1 workers: 1 on a 2-core machine, i.e. every file in series. The CLI
      // tests wait on child processes and the property tests on synthesis: two workers overlap them.
      maxWorkers: '100%',
      coveragePathIgnorePatterns: ['/node_modules/', '/src/imports/'],
      moduleNameMapper: { '^cdk8s-mesh-release$': '<rootDir>/src/index.ts' },
    },
  },
  eslintOptions: {
    dirs: ['src'],
    // Re-lint only changed files between local runs (a fresh clone, as in CI, lints everything). The cache does
    // not see type changes in other files: a floating promise made by changing another file's return type shows
    // up on the next full run (CI, or after removing node_modules/.cache/eslint).
    commandOptions: { extraArgs: ['--cache', '--cache-strategy', 'content', '--cache-location', 'node_modules/.cache/eslint/'] },
    ignorePatterns: ['src/imports/', 'examples/**/dist/', 'examples/**/imports/'],
    // One TypeScript program for every linted file (test/tsconfig.json, which includes them below) instead of
    // the project service's one per nearest tsconfig (src and test): ~1.5 s less per full run.
    projectService: false,
    tsconfigPath: './test/tsconfig.json',
  },
});

// The linted files outside test/ join test/tsconfig.json, eslint's one program (see eslintOptions).
project.tsconfigDev.addInclude('../src/**/*.ts');
project.tsconfigDev.addInclude('../projenrc/**/*.ts');
project.tsconfigDev.addInclude('../.projenrc.ts');
// The generated CRD schemas are data (~800 KB of object literals) that the library and tests `require()`, and eslint
// ignores src/imports/: left out of that program, TypeScript no longer parses and binds them on every lint (~1 s).
project.tsconfigDev.addExclude('../src/imports/*-schemas.ts');

// Tests are transpiled by esbuild (test/_transform.js) instead of ts-jest: the same output for our sources
// (isolated modules, ES2022 class fields, CommonJS), a tenth of the cold-cache cost. Types are checked by jsii, the
// type-aware eslint rules and test/typecheck.test.ts, as before (ts-jest ran with isolatedModules: no type check).
project.package.file.addOverride('jest.transform', { '^.+\\.[t]sx?$': '<rootDir>/test/_transform.js' });
// Without timings (a fresh clone) the longest suites run first (test/_sequencer.js), not the largest files.
project.package.file.addOverride('jest.testSequencer', '<rootDir>/test/_sequencer.js');

// `npm test`: jest (the same command, arguments after `--` go to jest) and the eslint task side by side: both are
// CPU-bound and in series one core idles (scripts/test.js; MESH_RELEASE_SERIAL_TESTS=1 runs them in series).
// `"$@"`: each argument reaches jest as given (`npm test -- -t 'two words'`), not re-split by the task's shell.
project.testTask.reset('node scripts/test.js "$@"', { receiveArgs: true });

// A lockfile written on Linux may list only the Linux build of unrs-resolver 1.13.x,
// which makes `npm ci` fail elsewhere; 1.12.2 is consistent.
project.package.addPackageResolutions('unrs-resolver@1.12.2');

// The CLI from source, for this repository (users run the installed bin: `npx mesh-release`).
project.addTask('mesh-release', {
  description: 'Run the mesh-release CLI from source, e.g. `npm run mesh-release -- plan --app examples/helloworld`',
  exec: 'node -r ts-node/register/transpile-only src/cli/main.ts',
  receiveArgs: true,
});

// The integration suite (test/integration/*.integration.ts): a real kube-apiserver, etcd and kube-controller-manager from
// KUBEBUILDER_ASSETS (the envtest convention), simulated kubelet and mesh controllers, and a real Prometheus (the
// analysis suites); not part of `npm test` (skipped there by name), run by CI after it. Without KUBEBUILDER_ASSETS
// (or prometheus) its suites are skipped with a line saying how to enable them; with CI=true they fail instead.
project.addTask('test:integration', {
  description: 'Run the integration suite against a real control plane (needs KUBEBUILDER_ASSETS, kubectl, jq, shellcheck, prometheus)',
  exec: 'jest --ci --maxConcurrency 8 --testMatch "<rootDir>/test/integration/**/*.integration.ts"',
  receiveArgs: true,
});

// Synth performance benchmark (not part of the tests: no timed assertions there).
project.addTask('bench', {
  description: 'Measure synth cost against hand-written cdk8s-plus and plain serialization (see BENCHMARKS.md)',
  exec: 'node --expose-gc -r ts-node/register/transpile-only bench/synth.bench.ts',
});

// Every task's PATH gets the project's node_modules/.bin. projen's default computes it with
// `npx -c "node --print process.env.PATH"`: ~1.2 s (an npm process) on every `npx projen <task>`, and twice per
// `npm test` before this; the binaries the tasks use are all in ./node_modules/.bin. `$PWD` is the task's working
// directory: a task with its own (the example) names the project's node_modules/.bin itself, below.
project.tasks.addEnvironment('PATH', '$(echo "$PWD/node_modules/.bin:$PATH")');

// jsii prints an end-of-life banner on Node 20.
project.tasks.addEnvironment('JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION', '20');

// Typed classes generated from the upstream CRDs (Istio networking + security; Gateway API).
project.addTask('import:istio', {
  description: 'Regenerate src/imports/ (typed Istio classes) and the Istio JSON schemas from ../shared/istio/crd-all.gen.yaml',
  exec: 'ts-node --project projenrc/tsconfig.json scripts/import-crds.ts istio',
});
project.addTask('import:gateway-api', {
  description: 'Regenerate src/imports/ (typed Gateway API classes) and their JSON schemas from ../shared/gateway-api/',
  exec: 'ts-node --project projenrc/tsconfig.json scripts/import-crds.ts gateway-api',
});

// The main job: synthesize the bundled example with the real cdk8s CLI.
project.addTask('example', {
  description: 'Synthesize examples/helloworld to YAML with the cdk8s CLI',
  cwd: 'examples/helloworld',
  // The cdk8s CLI checks npm for an upgrade by default: offline (or behind a proxy) that prints a stack trace.
  env: { CDK8S_CHECK_UPGRADE: 'false', PATH: '$(echo "$PWD/../../node_modules/.bin:$PATH")' },
  steps: [
    { exec: 'cdk8s synth --no-check-upgrade --output dist' },
    { exec: 'echo "YAML written to $(pwd)/dist/"' },
  ],
});

// API.md documents the library's own API; the generated CRD classes of the `networking`, `security` and `gatewayApi`
// submodules (~0.9 MB of upstream field docs) get a file each in docs/api/, linked from API.md, and headings written
// in doc comments become bold lines instead of breaking the outline (projenrc/api-docs.ts).
const docgen = project.tasks.tryFind('docgen')!;
docgen.reset('rm -rf docs/api');
docgen.exec('jsii-docgen --split-by-submodule -o docs/api/API');
docgen.exec('node -r ts-node/register/transpile-only projenrc/api-docs.ts');
project.annotateGenerated('/docs/api/*.md');

// Generated from upstream CRDs (npx projen import:istio / import:gateway-api): never edited by hand.
project.gitattributes.addAttributes('/src/imports/**', 'linguist-generated');

project.gitignore.exclude('examples/**/dist/', '/.cli-build/', '/bench/.apps/');
// A git worktree's node_modules is a symlink to the main checkout's: `node_modules/` matches only a directory.
project.gitignore.exclude('/node_modules');
// Not for users: the tests' CLI builds (.cli-build/, 1.4 MB packed) and the benchmark's sources.
project.npmignore?.exclude('/examples/', '/scripts/', '/.ci/', '/.cli-build/', '/bench/');

project.synth();
