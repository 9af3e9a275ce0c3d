/**
 * What users compile against the library, type-checked the way their compiler would: the README's ```ts
 * snippets and the bundled example app, both importing `cdk8s-mesh-release` by package name.
 *
 * Both programs share one compiler host, so the files they have in common (TypeScript's libs, @types/node,
 * cdk8s, cdk8s-plus, the library's sources) are read and parsed once. Only the snippets' and the example's own
 * files are checked: the library is type-checked by its own build (jsii), and TypeScript then resolves just the
 * declarations they use.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as ts from 'typescript';

const ROOT = join(__dirname, '..');
const parsed = new Map<string, ts.SourceFile | undefined>();

/** A compiler host whose parsed files are shared by the programs of this file (keyed by path and language version). */
function sharedHost(options: ts.CompilerOptions): ts.CompilerHost {
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const version = typeof languageVersion === 'object' ? languageVersion.languageVersion : languageVersion;
    const key = `${version}|${fileName}`;
    if (!parsed.has(key)) {
      parsed.set(key, getSourceFile(fileName, languageVersion, onError, shouldCreate));
    }
    return parsed.get(key);
  };
  return host;
}

function diagnosticsOf(files: string[], options: ts.CompilerOptions, withGlobal = false): string[] {
  const program = ts.createProgram(files, options, sharedHost(options));
  return [
    ...(withGlobal ? [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()] : []),
    ...files.map((f) => program.getSourceFile(f)!).flatMap((sf) => [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]),
  ].map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

describe('type-checks', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'readme-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('README snippets type-check against the library, imported by package name', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const files = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => {
      const file = join(dir, `snippet-${i}.ts`);
      writeFileSync(file, m[1]);
      return file;
    });
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(diagnosticsOf(files, {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      // A Node.js program: the ES2022 library without the DOM's (lib.dom.d.ts, 2.3 MB to parse, is in the default
      // library of a target), as the example's tsconfig.json and the library's own say.
      lib: ['lib.es2022.d.ts'],
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      ignoreDeprecations: '6.0',
      esModuleInterop: true,
      skipLibCheck: true,
      types: ['node', 'jest'],
      typeRoots: [join(ROOT, 'node_modules', '@types')],
      baseUrl: ROOT,
      paths: { 'cdk8s-mesh-release': ['src/index.ts'], '*': ['node_modules/*'] },
    })).toEqual([]);
  });

  /** The bundled example is a user's app: it must type-check against the published API with its own tsconfig. */
  test('examples/helloworld type-checks with its own tsconfig.json', () => {
    const example = join(ROOT, 'examples', 'helloworld');
    const config = ts.getParsedCommandLineOfConfigFile(join(example, 'tsconfig.json'), { noEmit: true }, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    })!;
    expect(config.fileNames.map((f) => f.replace(`${example}/`, ''))).toEqual(['main.ts']);
    expect(diagnosticsOf(config.fileNames, config.options, true)).toEqual([]);
  });
});
