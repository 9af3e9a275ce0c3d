/**
 * The import graph of a set of TypeScript files, for test/architecture.test.ts: which file imports which, found
 * with the TypeScript compiler API (no type check, no program: each file on its own), and its cycles.
 *
 * An edge counts every way a file names another one: `import` (also `import type` and side-effect imports),
 * `export ... from`, `require('./x')`, `import('./x')` and `typeof import('./x')`. An edge is type-only when every
 * one of them is erased from the JavaScript: `import type` / `export type`, imports whose every binding is used only
 * in type positions, and `import('./x')` types. Type-only edges still make cycles (the design is the same), they
 * are only marked as such in messages.
 */
import * as path from 'path';
import * as ts from 'typescript';

/** One module specifier of a file, and whether it leaves the JavaScript (type-only) or not. */
export interface ImportRef {
  readonly specifier: string;
  readonly typeOnly: boolean;
}

/** The module specifiers of one file's text. */
export function importsOf(fileName: string, text: string): ImportRef[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const refs: ImportRef[] = [];
  /** Local binding → specifier, for the imports that are not `import type` (their use decides). */
  const bindings = new Map<string, { specifier: string; valueUse: boolean }>();
  const pendingSpecifiers: string[] = [];

  for (const statement of sf.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      const specifier = statement.moduleSpecifier.text;
      const clause = statement.importClause;
      if (!clause) {
        refs.push({ specifier, typeOnly: false }); // `import './x'`: for its side effects
        continue;
      }
      if (clause.isTypeOnly) {
        refs.push({ specifier, typeOnly: true });
        continue;
      }
      const names: string[] = [];
      if (clause.name) {
        names.push(clause.name.text);
      }
      const named = clause.namedBindings;
      if (named && ts.isNamespaceImport(named)) {
        names.push(named.name.text);
      } else if (named) {
        names.push(...named.elements.filter((e) => !e.isTypeOnly).map((e) => e.name.text));
      }
      if (names.length === 0) {
        refs.push({ specifier, typeOnly: true }); // `import { type A } from './x'` (or `import {} from`): erased
        continue;
      }
      for (const name of names) {
        bindings.set(name, { specifier, valueUse: false });
      }
      pendingSpecifiers.push(specifier);
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)) {
      const named = statement.exportClause;
      const allTypes = statement.isTypeOnly || (named !== undefined && ts.isNamedExports(named)
        && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly));
      refs.push({ specifier: statement.moduleSpecifier.text, typeOnly: allTypes });
    } else if (ts.isImportEqualsDeclaration(statement) && ts.isExternalModuleReference(statement.moduleReference)
      && ts.isStringLiteral(statement.moduleReference.expression)) {
      refs.push({ specifier: statement.moduleReference.expression.text, typeOnly: statement.isTypeOnly });
    }
  }

  /** Whether `node`, an identifier, is a reference (not a property name, nor a declaration's name). */
  const isReference = (node: ts.Identifier): boolean => {
    const parent = node.parent;
    if (ts.isPropertyAccessExpression(parent) && parent.name === node) {
      return false;
    }
    if (ts.isQualifiedName(parent) && parent.right === node) {
      return false;
    }
    if (ts.isImportClause(parent) || ts.isImportSpecifier(parent) || ts.isNamespaceImport(parent)) {
      return false;
    }
    if (ts.isExportSpecifier(parent) && parent.propertyName !== undefined && parent.name === node) {
      return false;
    }
    if ((ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent) || ts.isPropertySignature(parent)
      || ts.isMethodDeclaration(parent) || ts.isMethodSignature(parent) || ts.isGetAccessor(parent) || ts.isSetAccessor(parent)
      || ts.isEnumMember(parent) || ts.isBindingElement(parent)) && parent.name === node) {
      return false;
    }
    if (ts.isBindingElement(parent) && parent.propertyName === node) {
      return false;
    }
    return true;
  };

  /** Whether `node` starts a type position: a type node, except a class's `extends` expression (a value). */
  const startsType = (node: ts.Node): boolean => {
    if (ts.isExpressionWithTypeArguments(node)) {
      const clause = node.parent;
      return !(ts.isHeritageClause(clause) && clause.token === ts.SyntaxKind.ExtendsKeyword
        && (ts.isClassDeclaration(clause.parent) || ts.isClassExpression(clause.parent)));
    }
    return ts.isTypeNode(node);
  };

  const visit = (node: ts.Node, inType: boolean): void => {
    if (ts.isImportDeclaration(node) || (ts.isExportDeclaration(node) && node.moduleSpecifier)) {
      return;
    }
    const typeHere = inType || startsType(node);
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      refs.push({ specifier: node.argument.literal.text, typeOnly: true }); // `typeof import('./x')`
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteralLike(node.arguments[0])
      && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      refs.push({ specifier: node.arguments[0].text, typeOnly: false });
    } else if (ts.isIdentifier(node) && !typeHere && bindings.has(node.text) && isReference(node)) {
      bindings.get(node.text)!.valueUse = true;
    } else if (ts.isShorthandPropertyAssignment(node) && bindings.has(node.name.text)) {
      bindings.get(node.name.text)!.valueUse = true;
    }
    ts.forEachChild(node, (child) => visit(child, typeHere));
  };
  ts.forEachChild(sf, (child) => visit(child, false));

  for (const specifier of new Set(pendingSpecifiers)) {
    const used = [...bindings.values()].some((b) => b.specifier === specifier && b.valueUse);
    refs.push({ specifier, typeOnly: !used });
  }
  return refs;
}

/** The file a relative specifier names (`x.ts`, or `x/index.ts`), if it is one of `files`. */
export function resolveSpecifier(from: string, specifier: string, files: ReadonlySet<string>): string | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) {
    return undefined; // a package
  }
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier)).replace(/\.js$/, '');
  return [base, `${base}.ts`, `${base}/index.ts`].find((candidate) => files.has(candidate));
}

/**
 * The import graph of some files (path from the root, `/`-separated → text). Only imports between the given
 * files are edges: imports of packages, and of files left out (generated code), are not part of it.
 *
 * The edges come from `ts.preProcessFile` (a scan, no parse); whether an edge is type-only is found only when
 * asked (a message shows it), by parsing the importing file (`importsOf`): parsing all of `src/` would take
 * most of a second.
 */
export class ImportGraph {
  /** File → the files it imports, both sorted. */
  public readonly edges: ReadonlyMap<string, readonly string[]>;
  private readonly typeOnlyTargets = new Map<string, Set<string>>();

  constructor(private readonly files: ReadonlyMap<string, string>) {
    const names = new Set(files.keys());
    const edges = new Map<string, string[]>();
    for (const file of [...names].sort(compare)) {
      const imported = ts.preProcessFile(files.get(file)!, true, true).importedFiles;
      const targets = imported.map((ref) => resolveSpecifier(file, ref.fileName, names)).filter((t): t is string => t !== undefined);
      edges.set(file, [...new Set(targets)].sort(compare));
    }
    this.edges = edges;
  }

  /** Whether every import of `to` in `from` is erased from the JavaScript. */
  public isTypeOnly(from: string, to: string): boolean {
    let targets = this.typeOnlyTargets.get(from);
    if (!targets) {
      const names = new Set(this.files.keys());
      const kinds = new Map<string, boolean>();
      for (const ref of importsOf(from, this.files.get(from)!)) {
        const target = resolveSpecifier(from, ref.specifier, names);
        if (target !== undefined) {
          kinds.set(target, (kinds.get(target) ?? true) && ref.typeOnly);
        }
      }
      targets = new Set([...kinds].filter(([, typeOnly]) => typeOnly).map(([target]) => target));
      this.typeOnlyTargets.set(from, targets);
    }
    return targets.has(to);
  }
}

/** Strongly connected components (Tarjan), each sorted, in a stable order; only those with a cycle (2+ files, or a self-import). */
export function cyclicComponents(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.edges.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.edges.get(v)?.includes(v)) {
        components.push(component.sort(compare));
      }
    }
  };
  for (const v of graph.edges.keys()) {
    if (!index.has(v)) {
      connect(v);
    }
  }
  return components.sort((a, b) => compare(a[0], b[0]));
}

/**
 * Every elementary cycle (each file at most once), as the list of its files, starting at its smallest file, the
 * cycles sorted. Removing an import only removes cycles (never changes one), so a list of them can only shrink as
 * cycles are broken. Throws past `limit` cycles rather than run for long.
 */
export function elementaryCycles(graph: ImportGraph, limit = 1000): string[][] {
  const cycles: string[][] = [];
  for (const component of cyclicComponents(graph)) {
    const inComponent = new Set(component);
    // Cycles through `start` and files after it only: each cycle is found once, from its smallest file.
    for (const [i, start] of component.entries()) {
      const allowed = new Set(component.slice(i));
      const pathSoFar: string[] = [start];
      const onPath = new Set<string>([start]);
      const extend = (v: string): void => {
        for (const w of graph.edges.get(v) ?? []) {
          if (w === start) {
            cycles.push([...pathSoFar]);
            if (cycles.length > limit) {
              throw new Error(`more than ${limit} import cycles`);
            }
          } else if (inComponent.has(w) && allowed.has(w) && !onPath.has(w)) {
            pathSoFar.push(w);
            onPath.add(w);
            extend(w);
            onPath.delete(w);
            pathSoFar.pop();
          }
        }
      };
      extend(start);
    }
  }
  return cycles.sort((a, b) => compare(a.join('\0'), b.join('\0')));
}

/** A cycle as a path back to its start, `a.ts -> b.ts -(type)-> a.ts` (type-only edges marked). */
export function formatCycle(graph: ImportGraph, cycle: readonly string[]): string {
  const files = [...cycle, cycle[0]];
  return files.slice(1).reduce((text, to, i) => `${text} ${arrow(graph, files[i], to)} ${to}`, files[0]);
}

/** `->`, or `-(type)->` for a type-only edge. */
export function arrow(graph: ImportGraph, from: string, to: string): string {
  return graph.isTypeOnly(from, to) ? '-(type)->' : '->';
}

/** Code-unit order (not the locale's), so that messages do not depend on the machine. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A path glob as a regular expression: `**` any number of folders, `*` within one name. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      source += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') {
      source += '[^/]*';
    } else {
      source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}
