/**
 * The public surface as TypeScript users see it: the declarations (lib/*.d.ts) the build emits for src/index.ts,
 * made here in memory with the compiler options of tsconfig.json (the ones jsii compiles with).
 *
 * - Nothing internal is reachable from them: no member or export named `_...` (private members excepted: users
 *   cannot touch them), no `@internal` declaration, and nothing taken from an internal module (a file named
 *   `_...`) by the files index.d.ts reaches through its imports and re-exports, unless listed in
 *   REEXPORTED_ON_PURPOSE.
 * - Stripped of `@internal` declarations, they still stand on their own (jsii's "strict" tsconfig rules forbid
 *   `stripInternal` because a public type extending or naming an `@internal` one would point at a declaration
 *   that is not emitted): they type-check in a program of their own, as in a user's project.
 *
 * Only the files index.d.ts reaches are emitted (the generated CRD classes of src/imports/ are read as sources:
 * emitting them would type-check ~1 MB of generated code that no rule here is about).
 */
import { join, relative, resolve } from 'path';
import * as ts from 'typescript';

const ROOT = join(__dirname, '..');
const SRC = join(ROOT, 'src');
const OUT = join(ROOT, 'lib');
/** Names of internal modules (`src/**\/_*.ts`, relative to src/) that are public on purpose. */
const REEXPORTED_ON_PURPOSE: Record<string, string[]> = {
  // The annotation users set to give a version's sidecar its own proxy config; _conventions.ts is the one home of names.
  '_conventions.ts': ['ISTIO_PROXY_CONFIG_ANNOTATION'],
};

const isGenerated = (file: string) => file.startsWith(join(SRC, 'imports') + '/');
const isInternalModule = (file: string) => /^_/.test(file.split('/').pop()!);

interface Surface {
  /** Emitted declarations reachable from index.d.ts, by output path (lib/...d.ts). */
  readonly declarations: Map<string, string>;
  /** The source files behind them, and the generated ones they re-export, as paths relative to src/. */
  readonly sources: string[];
  /** How index.d.ts reaches each of them: `index.ts -> routing/router.ts -> ...`, by source. */
  readonly chains: Map<string, string>;
  /** What the declarations take from each internal module (`_*.ts`): `routing/router.ts -> _conventions.ts: Labels`. */
  readonly fromInternal: string[];
  readonly emitDiagnostics: string[];
  readonly program: ts.Program;
  readonly options: ts.CompilerOptions;
  readonly host: ts.CompilerHost;
}

function format(diagnostics: readonly ts.Diagnostic[]): string[] {
  // The second program serves lib/x.d.ts as src/x.d.ts (see checkOnTheirOwn): named as built.
  const name = (f: string) => relative(ROOT, f.endsWith('.d.ts') && f.startsWith(SRC + '/') ? join(OUT, relative(SRC, f)) : f);
  return diagnostics.map((d) => `${d.file ? name(d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

/** Module specifiers of a declaration file (imports, re-exports, `import("...")` types), with the names taken (`*`: all). */
function specifiersOf(sf: ts.SourceFile): { specifier: string; names: string[] }[] {
  const found: { specifier: string; names: string[] }[] = [];
  const elements = (clause: ts.NamedImportBindings | ts.NamedExportBindings | undefined): string[] => {
    if (!clause || ts.isNamespaceImport(clause) || ts.isNamespaceExport(clause)) return ['*'];
    return (clause.elements as ts.NodeArray<ts.ImportSpecifier | ts.ExportSpecifier>).map((e) => (e.propertyName ?? e.name).text);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      found.push({ specifier: node.moduleSpecifier.text, names: [...(clause?.name ? ['default'] : []), ...(clause?.namedBindings || !clause ? elements(clause?.namedBindings) : [])] });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ specifier: node.moduleSpecifier.text, names: elements(node.exportClause) });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      const qualifier = node.qualifier && (ts.isIdentifier(node.qualifier) ? node.qualifier : node.qualifier.left);
      found.push({ specifier: node.argument.literal.text, names: [qualifier && ts.isIdentifier(qualifier) ? qualifier.text : '*'] });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** Names starting with `_` that users can reach: exports, and members that are not private. */
function underscoreNames(sf: ts.SourceFile): string[] {
  const found: string[] = [];
  const nameOf = (node: ts.Node): string | undefined => {
    const name = (node as any).name as ts.Node | undefined;
    return name && (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isPrivateIdentifier(name)) ? name.text : undefined;
  };
  const isPrivate = (node: ts.Node) => ts.canHaveModifiers(node)
    && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.PrivateKeyword);
  const visit = (node: ts.Node, owner: string): void => {
    if (ts.isBlock(node)) return; // a body (the generated sources are read as .ts): its locals are not reachable
    const name = nameOf(node);
    const named = ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node) || ts.isModuleDeclaration(node)
      || ts.isEnumDeclaration(node) || ts.isTypeAliasDeclaration(node) || ts.isFunctionDeclaration(node)
      || ts.isVariableDeclaration(node) || ts.isClassElement(node) || ts.isTypeElement(node) || ts.isEnumMember(node)
      || (ts.isParameter(node) && ts.isConstructorDeclaration(node.parent) && !!ts.getModifiers(node)?.length);
    if (named && name?.startsWith('_') && !isPrivate(node)) found.push(`${relative(ROOT, sf.fileName)}: ${owner}${name}`);
    if (ts.isClassElement(node) && isPrivate(node)) return;
    ts.forEachChild(node, (child) => visit(child, named && name ? `${owner}${name}.` : owner));
  };
  visit(sf, '');
  return found;
}

function emitSurface(): Surface {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  })!;
  const options: ts.CompilerOptions = {
    ...config.options,
    emitDeclarationOnly: true,
    noEmitOnError: false,
    inlineSourceMap: false,
    inlineSources: false,
    declarationMap: false,
    incremental: false,
  };
  const host = ts.createCompilerHost(options);
  const program = ts.createProgram([join(SRC, 'index.ts')], options, host);
  const declarations = new Map<string, string>();
  const emitDiagnostics: ts.Diagnostic[] = [];
  const seen = new Set<string>();
  const chains = new Map<string, string>([['index.ts', 'index.ts']]);
  const fromInternal: string[] = [];
  const queue = [join(SRC, 'index.ts')];
  while (queue.length) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (isGenerated(file)) continue;
    const sf = program.getSourceFile(file)!;
    const result = program.emit(sf, (out, text) => {
      if (out.endsWith('.d.ts')) declarations.set(out, text);
    }, undefined, true);
    emitDiagnostics.push(...result.diagnostics);
    const out = join(OUT, relative(SRC, file)).replace(/\.ts$/, '.d.ts');
    const text = declarations.get(out);
    if (text === undefined) throw new Error(`no declarations emitted for ${relative(ROOT, file)}`);
    for (const { specifier, names } of specifiersOf(ts.createSourceFile(out, text, ts.ScriptTarget.Latest, true))) {
      if (!specifier.startsWith('.')) continue;
      const resolved = ts.resolveModuleName(specifier, file, options, host).resolvedModule?.resolvedFileName;
      if (!resolved) throw new Error(`${relative(ROOT, file)}: cannot resolve ${specifier}`);
      const next = relative(SRC, resolve(resolved));
      if (!chains.has(next)) chains.set(next, `${chains.get(relative(SRC, file))} -> ${next}`);
      if (isInternalModule(next)) {
        fromInternal.push(...names.filter((n) => !REEXPORTED_ON_PURPOSE[next]?.includes(n))
          .map((n) => `${chains.get(relative(SRC, file))} -> ${next}: ${n}`));
      }
      queue.push(resolve(resolved));
    }
  }
  return {
    declarations,
    sources: [...seen].map((f) => relative(SRC, f)).sort(),
    chains,
    fromInternal,
    emitDiagnostics: format(emitDiagnostics),
    program,
    options,
    host,
  };
}

/**
 * Type-checks the emitted declarations in a program of their own. They are served next to their sources (src/x.d.ts
 * for src/x.ts), whose .ts files are hidden, so that imports resolve to them; the generated CRD classes, not
 * emitted, resolve to their sources, already parsed by the first program.
 */
function checkOnTheirOwn(surface: Surface): string[] {
  const { declarations, options, host, program: first } = surface;
  const files = new Map([...declarations].map(([out, text]) => [join(SRC, relative(OUT, out)), text]));
  const hidden = (f: string) => f.startsWith(SRC + '/') && /\.tsx?$/.test(f) && !f.endsWith('.d.ts') && !isGenerated(f);
  const checkHost: ts.CompilerHost = {
    ...host,
    fileExists: (f) => files.has(f) || (!hidden(f) && host.fileExists(f)),
    readFile: (f) => files.get(f) ?? (hidden(f) ? undefined : host.readFile(f)),
    getSourceFile: (f, language, onError) => {
      const text = files.get(f);
      if (text !== undefined) return ts.createSourceFile(f, text, language, true);
      return hidden(f) ? undefined : first.getSourceFile(f) ?? host.getSourceFile(f, language, onError);
    },
  };
  const roots = [...files.keys()];
  const program = ts.createProgram(roots, { ...options, noEmit: true, skipLibCheck: false }, checkHost);
  return format([
    ...program.getOptionsDiagnostics(),
    ...roots.map((f) => program.getSourceFile(f)).flatMap((sf) => [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]),
  ]);
}

describe('public surface (the emitted .d.ts)', () => {
  let surface: Surface;
  beforeAll(() => {
    surface = emitSurface();
  });

  test('the build strips @internal declarations (tsconfig.json: stripInternal)', () => {
    expect(surface.options.stripInternal).toBe(true);
    expect(surface.emitDiagnostics).toEqual([]);
    expect([...surface.declarations.values()].filter((text) => text.includes('@internal'))).toEqual([]);
  });

  test('no member or export named _... is reachable', () => {
    const found = [...surface.declarations].flatMap(([out, text]) =>
      underscoreNames(ts.createSourceFile(out, text, ts.ScriptTarget.Latest, true)));
    // The generated CRD classes, from their sources (not emitted, see above).
    for (const file of surface.sources.filter((f) => isGenerated(join(SRC, f)))) {
      found.push(...underscoreNames(surface.program.getSourceFile(join(SRC, file))!));
    }
    expect(found).toEqual([]);
    // What the stripping removes (a canary: the check above must look where these were).
    const router = surface.declarations.get(join(OUT, 'routing', 'router.d.ts'))!;
    expect(router).toMatch(/class TrafficRouter/);
    expect(router).not.toMatch(/_impl|RouterImpl/);
  });

  test('nothing from an internal module (src/**/_*.ts) is reachable from index.d.ts, unless public on purpose', () => {
    expect(surface.sources).toContain('index.ts');
    expect(surface.fromInternal).toEqual([]);
  });

  test('the stripped declarations type-check on their own', () => {
    expect(checkOnTheirOwn(surface)).toEqual([]);
  });
});
