import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { CliError } from './errors';
import { displayPath } from './paths';

/** Manifests read from YAML files, in file order then document order. */
export interface ManifestSet {
  /** The objects, as plain JSON (items of `kind: List` objects are flattened). */
  readonly objects: any[];
  /** The files read, sorted. */
  readonly files: string[];
}

const YAML_FILE = /\.ya?ml$/i;

/**
 * Reads the manifests of a YAML file, or of every `*.yaml`/`*.yml` file under a directory
 * (recursively, sorted by path; hidden directories and node_modules are skipped).
 * Throws a `CliError` naming the path when it is missing, holds no YAML file, or is not valid YAML.
 */
export function readManifests(target: string): ManifestSet {
  if (!fs.existsSync(target)) {
    throw new CliError(`no such file or directory: ${displayPath(target)}`);
  }
  const files = fs.statSync(target).isDirectory() ? yamlFilesUnder(target) : [target];
  if (files.length === 0) {
    throw new CliError(`no *.yaml or *.yml file in ${displayPath(target)}`);
  }
  return { files, objects: files.flatMap(parseFile) };
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

function parseFile(file: string): any[] {
  const documents = parseAllDocuments(fs.readFileSync(file, 'utf8'), { prettyErrors: true });
  const objects: any[] = [];
  for (const doc of documents) {
    const error = doc.errors[0];
    if (error) {
      // prettyErrors puts the line and column in the first line of the message.
      throw new CliError(`invalid YAML in ${displayPath(file)}: ${error.message.split('\n')[0].replace(/:$/, '')}`);
    }
    const value = doc.toJS();
    if (value === null || value === undefined) {
      continue;
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new CliError(`invalid manifest in ${displayPath(file)}: expected a Kubernetes object (a mapping), got ${JSON.stringify(value).slice(0, 60)}`);
    }
    objects.push(...(typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items) ? value.items : [value]));
  }
  return objects;
}
