/**
 * The library's architecture (docs: the design's "Dependency direction"), checked on the imports of `src/`
 * (generated `src/imports/` left out): no import cycle, and no import against the direction of the layers below.
 * Type-only imports count (a type names the module it comes from as much as a value does); messages mark them
 * `-(type)->`. The import graph: test/_import-graph.ts.
 */
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import {
  arrow, compare, elementaryCycles, formatCycle, globToRegExp, ImportGraph, importsOf,
} from './_import-graph';

const ROOT = join(__dirname, '..');

/**
 * The layers, bottom to top: a file may import files of its own layer and of the layers below it, never above.
 * A file belongs to the layer of its most specific glob (an exact path before `*`, then the longest); every file
 * of `src/` must belong to one. Old and new places of moving files are both listed.
 */
const LAYERS: ReadonlyArray<{ readonly name: string; readonly globs: readonly string[] }> = [
  { name: 'conventions', globs: ['src/_conventions.ts', 'src/_util.ts', 'src/_validation.ts'] },
  // ManifestSchemas (no cdk8s): also the extra rule below, own folder and conventions only.
  { name: 'schemas', globs: ['src/validation/**', 'src/schemas/**'] },
  // A plan's analysis and pauses (options, metrics, their JSON) and the analysis engine: conventions only, no cdk8s in
  // what the CLI reads (the JSON, the queries, the Prometheus client, the evaluation loop).
  { name: 'analysis', globs: ['src/analysis/**'] },
  { name: 'plan', globs: ['src/plan/**'] },
  { name: 'workload', globs: ['src/workload/**'] },
  { name: 'safety internals', globs: ['src/safety/**'] },
  // The plug-in contract and what routers share (`_router.ts`, `_plugin.ts`, ...), then the routers themselves.
  { name: 'routing contract', globs: ['src/routing/_*.ts'] },
  { name: 'router', globs: ['src/routing/*/**'] },
  { name: 'routing registry', globs: ['src/routing/_registry.ts', 'src/routing/router.ts'] },
  {
    name: 'release',
    globs: ['src/release/**', 'src/mesh-release.ts', 'src/apply-order.ts', 'src/_apply-order.ts', 'src/_render.ts', 'src/_rendered-stages.ts'],
  },
  { name: 'public checks', globs: ['src/safety/safety-check.ts', 'src/testing/**'] },
  // The CLI's readers and commands (plan, check, runbook), then the driver of `rollout` that reuses them.
  { name: 'cli', globs: ['src/cli/**'] },
  { name: 'rollout', globs: ['src/rollout/**'] },
  // May import anything.
  { name: 'entry points', globs: ['src/cli/program.ts', 'src/cli/main.ts', 'src/index.ts'] },
];

/** The schemas import nothing of the library but their own folder and these. */
const SCHEMAS_MAY_IMPORT = ['src/_conventions.ts', 'src/_util.ts'];

/**
 * Violations accepted, exactly (cycles, then imports against the direction): none since issue 18, and it stays
 * empty. A violation not listed fails the test (fix the import instead of listing it), and so does a listed one
 * that is gone.
 */
const KNOWN_VIOLATIONS: readonly string[] = [];

type Layers = typeof LAYERS;

const REGEXPS = new Map<string, RegExp>();

function regExpOf(glob: string): RegExp {
  let re = REGEXPS.get(glob);
  if (!re) {
    re = globToRegExp(glob);
    REGEXPS.set(glob, re);
  }
  return re;
}

/** The layer of a file (its index in `layers`), by its most specific glob; undefined when none matches. */
function layerOf(file: string, layers: Layers): number | undefined {
  let best: { layer: number; specificity: number } | undefined;
  for (const [layer, { globs }] of layers.entries()) {
    for (const glob of globs.filter((g) => regExpOf(g).test(file))) {
      const specificity = glob.includes('*') ? glob.replace(/\*/g, '').length : Number.MAX_SAFE_INTEGER;
      if (!best || specificity > best.specificity) {
        best = { layer, specificity };
      }
    }
  }
  return best?.layer;
}

/** `src/routing/<router>/...` → `<router>`. */
function routerOf(file: string): string | undefined {
  return /^src\/routing\/([^/]+)\//.exec(file)?.[1];
}

/** `src/validation/...` or `src/schemas/...` → its folder. */
function schemasFolderOf(file: string): string | undefined {
  return /^(src\/(?:validation|schemas)\/)/.exec(file)?.[1];
}

/** Every import against the rules, one line each, most specific rule first. */
function directionViolations(graph: ImportGraph, layers: Layers): string[] {
  const found: string[] = [];
  for (const [from, targets] of graph.edges) {
    for (const to of targets) {
      const edge = () => `${from} ${arrow(graph, from, to)} ${to}`; // parses the importing file: only for a violation
      const fromLayer = layerOf(from, layers);
      const toLayer = layerOf(to, layers);
      const schemas = schemasFolderOf(from);
      const router = routerOf(from);
      if (schemas !== undefined && !to.startsWith(schemas) && !SCHEMAS_MAY_IMPORT.includes(to)) {
        found.push(`schemas import only their folder and ${SCHEMAS_MAY_IMPORT.join(', ')}: ${edge()}`);
      } else if (router !== undefined && routerOf(to) !== undefined && routerOf(to) !== router) {
        found.push(`a router imports another router: ${edge()}`);
      } else if (fromLayer !== undefined && toLayer !== undefined && toLayer > fromLayer) {
        found.push(`layer ${layers[fromLayer].name} imports layer ${layers[toLayer].name}: ${edge()}`);
      }
    }
  }
  return found.sort(compare);
}

function cycleViolations(graph: ImportGraph): string[] {
  return elementaryCycles(graph).map((cycle) => `cycle: ${formatCycle(graph, cycle)}`);
}

/** The library's files (paths from the root, `/`-separated) and their texts, without generated code. */
function sourceFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const file = `${dir}/${entry.name}`;
      if (entry.isDirectory() && file !== 'src/imports') {
        walk(file);
      } else if (entry.isFile() && file.endsWith('.ts') && !file.endsWith('.d.ts')) {
        files.set(file, readFileSync(join(ROOT, file), 'utf8'));
      }
    }
  };
  walk('src');
  return files;
}

describe('architecture of src/', () => {
  const graph = new ImportGraph(sourceFiles());

  test('the import graph has the library\'s files and imports', () => {
    expect(graph.edges.size).toBeGreaterThan(30);
    expect(graph.edges.get('src/index.ts')?.length).toBeGreaterThan(5);
  });

  test('every file of src/ belongs to a layer (add a new folder to LAYERS)', () => {
    expect([...graph.edges.keys()].filter((file) => layerOf(file, LAYERS) === undefined)).toEqual([]);
  });

  test('no import cycle and no import against the layers, but for KNOWN_VIOLATIONS (which only shrinks)', () => {
    const found = [...cycleViolations(graph), ...directionViolations(graph, LAYERS)];
    const problems = [
      ...found.filter((v) => !KNOWN_VIOLATIONS.includes(v)).map((v) => `NEW, fix the import: ${v}`),
      ...KNOWN_VIOLATIONS.filter((v) => !found.includes(v)).map((v) => `GONE, remove it from KNOWN_VIOLATIONS: ${v}`),
    ];
    expect(problems).toEqual([]);
  });
});

describe('the checks can fail', () => {
  /** A graph of in-memory files. */
  const graphOf = (files: Record<string, string>) => new ImportGraph(new Map(Object.entries(files)));

  test('a cycle, through a type-only import, is found and printed as a path', () => {
    const graph = graphOf({
      'src/a.ts': 'import { b } from \'./b\';\nexport const a = b;',
      'src/b.ts': 'import type { C } from \'./c/index\';\nexport const b = 1;\nexport type B = C;',
      'src/c/index.ts': 'import { A } from \'../a\';\nexport type C = A;',
      'src/d.ts': 'import { a } from \'./a\';\nexport const d = a;',
      'src/e.ts': 'export const e = require(\'./e\');',
    });
    expect(cycleViolations(graph)).toEqual([
      'cycle: src/a.ts -> src/b.ts -(type)-> src/c/index.ts -(type)-> src/a.ts',
      'cycle: src/e.ts -> src/e.ts',
    ]);
  });

  test('every elementary cycle of a component is listed once', () => {
    const graph = graphOf({
      'a.ts': 'import \'./b\';\nimport \'./c\';',
      'b.ts': 'import \'./a\';\nimport \'./c\';',
      'c.ts': 'import \'./a\';',
    });
    expect(cycleViolations(graph)).toEqual([
      'cycle: a.ts -> b.ts -> a.ts',
      'cycle: a.ts -> b.ts -> c.ts -> a.ts',
      'cycle: a.ts -> c.ts -> a.ts',
    ]);
  });

  test('imports against the layers, between routers and out of the schemas are found', () => {
    const graph = graphOf({
      'src/_util.ts': 'export const u = 1;',
      'src/plan/p.ts': 'import { r } from \'../release/r\';\nexport const p = r;',
      'src/release/r.ts': 'import { p } from \'../plan/p\';\nexport const r = p;',
      'src/routing/istio/x.ts': 'import type { Y } from \'../gateway-api/y\';\nexport type X = Y;',
      'src/routing/gateway-api/y.ts': 'export type Y = 1;',
      'src/validation/v.ts': 'import { u } from \'../_util\';\nimport { p } from \'../plan/p\';\nexport const v = u + p;',
      'src/cli/c.ts': 'import { r } from \'../release/r\';\nexport const c = r;',
      'src/cli/runbook.ts': 'import { d } from \'../rollout/driver\';\nexport const c = d;',
      'src/rollout/driver.ts': 'export const d = 1;',
    });
    expect(directionViolations(graph, LAYERS)).toEqual([
      'a router imports another router: src/routing/istio/x.ts -(type)-> src/routing/gateway-api/y.ts',
      'layer cli imports layer rollout: src/cli/runbook.ts -> src/rollout/driver.ts',
      'layer plan imports layer release: src/plan/p.ts -> src/release/r.ts',
      'schemas import only their folder and src/_conventions.ts, src/_util.ts: src/validation/v.ts -> src/plan/p.ts',
    ]);
  });

  test('files belong to the layer of their most specific glob', () => {
    const name = (file: string) => LAYERS[layerOf(file, LAYERS)!]?.name;
    expect(name('src/safety/safety-check.ts')).toBe('public checks');
    expect(name('src/safety/_engine.ts')).toBe('safety internals');
    expect(name('src/routing/router.ts')).toBe('routing registry');
    expect(name('src/routing/_plugin.ts')).toBe('routing contract');
    expect(name('src/routing/istio/rules/subset.ts')).toBe('router');
    expect(name('src/cli/runbook-steps.ts')).toBe('cli');
    expect(name('src/rollout/driver.ts')).toBe('rollout');
    expect(name('src/cli/program.ts')).toBe('entry points');
    expect(layerOf('src/new-thing.ts', LAYERS)).toBeUndefined();
  });

  test('an import is type-only when every binding is used as a type only', () => {
    const kinds = (text: string) => importsOf('x.ts', text).map((r) => `${r.specifier}:${r.typeOnly ? 'type' : 'value'}`);
    expect(kinds('import { A } from \'./a\';\nlet x: A;')).toEqual(['./a:type']);
    expect(kinds('import { A } from \'./a\';\nclass X implements A {}')).toEqual(['./a:type']);
    expect(kinds('import { A } from \'./a\';\ninterface X extends A {}')).toEqual(['./a:type']);
    expect(kinds('import * as a from \'./a\';\nlet x: a.A;')).toEqual(['./a:type']);
    expect(kinds('import { A, B } from \'./a\';\nlet x: A = B;')).toEqual(['./a:value']);
    expect(kinds('import { A } from \'./a\';\nclass X extends A {}')).toEqual(['./a:value']);
    expect(kinds('import { A } from \'./a\';\nexport const x = { A };')).toEqual(['./a:value']);
    expect(kinds('import { A } from \'./a\';\nexport const x = { A: 1 }.A;')).toEqual(['./a:type']);
    expect(kinds('import { type A } from \'./a\';')).toEqual(['./a:type']);
    expect(kinds('import \'./a\';\nexport * from \'./b\';\nexport type { C } from \'./c\';')).toEqual(['./a:value', './b:value', './c:type']);
    expect(kinds('const f = (): typeof import(\'./a\') => require(\'./a\');')).toEqual(['./a:type', './a:value']);
  });

  test('globs', () => {
    expect(globToRegExp('src/routing/*/**').test('src/routing/istio/rules/a.ts')).toBe(true);
    expect(globToRegExp('src/routing/*/**').test('src/routing/router.ts')).toBe(false);
    expect(globToRegExp('src/routing/_*.ts').test('src/routing/_router.ts')).toBe(true);
    expect(globToRegExp('src/plan/**').test('src/plan/x.ts')).toBe(true);
    expect(globToRegExp('src/_util.ts').test('src/_utilxts')).toBe(false);
  });
});
