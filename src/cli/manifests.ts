import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { CliError, fileError } from './errors';
import { displayPath } from './paths';

/** Manifests read from YAML files, in file order then document order. */
export interface ManifestSet {
  /** The objects, as plain JSON (items of `kind: List` objects are flattened). */
  readonly objects: any[];
  /** The files read, sorted. */
  readonly files: string[];
}

export interface ReadOptions {
  /** No object at all is not an error. */
  readonly allowEmpty?: boolean;
  /**
   * The documents of the files found (by path), as the app wrote them, when known for exactly these files
   * (the synth hook's capture, `_yaml-capture.ts`): then the YAML is not parsed again.
   */
  readonly documents?: (files: string[]) => Map<string, unknown[]> | undefined;
}

const YAML_FILE = /\.ya?ml$/i;
/** Aliases one document may expand (the `yaml` package's default): more is an alias bomb, refused. */
const MAX_ALIAS_COUNT = 100;

/**
 * Reads the manifests of a YAML file, or of every `*.yaml`/`*.yml` file under a directory
 * (recursively, sorted by path; hidden directories and node_modules are skipped).
 * Throws a `CliError` naming the path when it is missing, holds no YAML file, is not valid YAML,
 * holds a document that is not a Kubernetes object (a mapping with `apiVersion` and `kind`), or
 * — unless `allowEmpty` — holds no object at all.
 */
export function readManifests(target: string, options: ReadOptions = {}): ManifestSet {
  if (!fs.existsSync(target)) {
    throw new CliError(`no such file or directory: ${displayPath(target)}`);
  }
  let files: string[];
  try {
    files = fs.statSync(target).isDirectory() ? yamlFilesUnder(target) : [target];
  } catch (e) {
    throw fileError(`read ${displayPath(target)}`, e);
  }
  if (files.length === 0) {
    throw new CliError(`no *.yaml or *.yml file in ${displayPath(target)}`);
  }
  const documents = options.documents?.(files);
  const objects = documents ? files.flatMap((f) => objectsOf(documents.get(f)!, displayPath(f))) : files.flatMap(parseFile);
  if (objects.length === 0 && !options.allowEmpty) {
    throw new CliError(`no Kubernetes object in ${displayPath(target)}: expected YAML documents with apiVersion and kind`);
  }
  return { files, objects };
}

function yamlFilesUnder(dir: string): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'node_modules') {
      files.push(...yamlFilesUnder(full));
    } else if (entry.isFile() && YAML_FILE.test(entry.name)) {
      files.push(full);
    }
  }
  return files.sort();
}

/** The objects of one YAML file (`kind: List` items taken out). */
export function parseFile(file: string): any[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw fileError(`read ${displayPath(file)}`, e);
  }
  return parseYaml(text, displayPath(file));
}

/** The objects of YAML text; `where` names it in errors. */
export function parseYaml(text: string, where: string): any[] {
  const documents = parseAllDocuments(text, { prettyErrors: true });
  const values: unknown[] = [];
  for (const [index, doc] of (Array.isArray(documents) ? documents : [documents]).entries()) {
    const error = doc.errors[0];
    if (error) {
      // prettyErrors puts the line and column in the first line of the message.
      throw new CliError(`invalid YAML in ${where}: ${error.message.split('\n')[0].replace(/:$/, '')}`);
    }
    try {
      values.push(doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
    } catch (e) {
      // An alias bomb ("Excessive alias count indicates a resource exhaustion attack"), or a broken alias.
      throw new CliError(`invalid YAML in ${where} (document ${index + 1}): ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return objectsOf(values, where);
}

/** The Kubernetes objects of a file's documents (empty documents skipped, `kind: List` items taken out); `where` names the file in errors. */
export function objectsOf(documents: unknown[], where: string): any[] {
  return documents.flatMap((value, index) => (value === null || value === undefined ? [] : kubernetesObjects(value, `${where} (document ${index + 1})`)));
}

function kubernetesObjects(value: any, where: string): any[] {
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError(`invalid manifest in ${where}: expected a Kubernetes object (a mapping), got ${JSON.stringify(value).slice(0, 60)}`);
  }
  if (typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') {
    throw new CliError(`invalid manifest in ${where}: not a Kubernetes object (it needs string apiVersion and kind), `
      + `got keys ${Object.keys(value).slice(0, 5).join(', ') || '(none)'}`);
  }
  if (value.kind.endsWith('List') && Array.isArray(value.items)) {
    return value.items.flatMap((item: any, i: number) => kubernetesObjects(item, `${where} items[${i}]`));
  }
  return [value];
}
