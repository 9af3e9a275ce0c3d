/**
 * What the synth hook (`synth-hook.ts`) does with the YAML an app writes through cdk8s's `Yaml`
 * (`App.synth()` saves every file with `Yaml.save`, which calls `Yaml.stringify`):
 *
 * - Each document's YAML text is kept from one stage to the next: a stage repeats most objects of
 *   the stage before it (a Deployment whose floor did not change, a PodDisruptionBudget, a
 *   DestinationRule...), and an unchanged document is not serialized again. The key is the
 *   document's JSON, so only plain JSON documents are cached (a value JSON does not spell exactly,
 *   such as `undefined`, `-0`, `NaN` or a `Date`, makes the document uncached); the text is what
 *   `Yaml.stringify` wrote for an equal document, byte for byte.
 * - The documents of every file saved during a stage are recorded as JSON, so that the CLI reads
 *   the stage without parsing the YAML again (`readCapturedStage`). A stage with a document that is
 *   not plain JSON, or with a YAML file not saved by `Yaml.save`, is read from its YAML.
 */
import * as fs from 'fs';
import * as path from 'path';
import { plainJson } from '../validation/_plain-json';

const PATCHED = Symbol.for('mesh-release.yaml-capture');

/**
 * A stage's saved files by path (relative to the stage directory): the JSON of each document and the file's
 * stamp as saved; undefined when a document is not plain JSON.
 */
export interface CapturedStage {
  readonly files: { [file: string]: { readonly docs: string[]; readonly stamp: string } } | undefined;
}

/** A file's size and modification time (nanoseconds): a file written again after `Yaml.save` no longer matches. */
function stampOf(file: string): string {
  try {
    const stat = fs.statSync(file, { bigint: true });
    return `${stat.size}:${stat.mtimeNs}`;
  } catch {
    return 'missing';
  }
}

let current = new Map<string, string>();
let previous = new Map<string, string>();
/** What a stage saved: each file's documents as JSON (undefined: one is not plain JSON) and the file's size and modification time. */
let saved: Map<string, { docs: string[] | undefined; stamp: string }> | undefined;

/** Patches cdk8s's `Yaml` (the copy the app loaded) to cache documents and record saved files. */
export function patchYaml(cdk8s: any): void {
  const Yaml = cdk8s?.Yaml;
  if (!Yaml || typeof Yaml.stringify !== 'function' || typeof Yaml.save !== 'function' || Yaml[PATCHED]) {
    return;
  }
  const stringify: (...docs: any[]) => string = Yaml.stringify;
  const save: (filePath: string, docs: any[]) => void = Yaml.save;
  Yaml.stringify = function cachedStringify(this: unknown, ...docs: any[]): string {
    // Yaml.stringify joins the documents' texts with '---\n' (an undefined document is '\n'): the same join, per document.
    return docs.map((doc) => {
      const key = doc === undefined ? undefined : plainJson(doc);
      if (key === undefined) {
        return stringify.call(this, doc);
      }
      let text = current.get(key) ?? previous.get(key);
      if (text === undefined) {
        text = stringify.call(this, doc);
      }
      current.set(key, text);
      return text;
    }).join('---\n');
  };
  Yaml.save = function recordingSave(this: unknown, filePath: string, docs: any[]): void {
    save.call(this, filePath, docs);
    if (saved) {
      const json = docs.map((doc) => (doc === undefined ? 'null' : plainJson(doc)));
      saved.set(path.resolve(filePath), { docs: json.every((j) => j !== undefined) ? json as string[] : undefined, stamp: stampOf(filePath) });
    }
  };
  Yaml[PATCHED] = true;
}

/** Starts a stage: what it saves is recorded, and the documents of the stage before it stay cached. */
export function beginStage(): void {
  previous = current;
  current = new Map();
  saved = new Map();
}

/** Ends a stage: the JSON of the files it saved under `dir` (undefined when a document is not plain JSON). */
export function endStage(dir: string): CapturedStage {
  const files: { [file: string]: { docs: string[]; stamp: string } } = {};
  let plain = true;
  const root = path.resolve(dir);
  for (const [file, { docs, stamp }] of saved ?? []) {
    const relative = path.relative(root, file);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      continue;
    }
    if (docs === undefined) {
      plain = false;
    } else {
      files[relative] = { docs, stamp };
    }
  }
  saved = undefined;
  return { files: plain ? files : undefined };
}

/** Writes a stage's capture next to its directory (`<dir>.json`), as JSON text built from the documents' JSON. */
export function writeCapture(dir: string, capture: CapturedStage): void {
  if (!capture.files) {
    return;
  }
  const entries = Object.entries(capture.files)
    .map(([file, { docs, stamp }]) => `${JSON.stringify(file)}:{"stamp":${JSON.stringify(stamp)},"docs":[${docs.join(',')}]}`);
  fs.writeFileSync(`${dir}.json`, `{${entries.join(',')}}`);
}

/**
 * The documents of a stage directory by file path (absolute), from its capture, when the capture
 * covers exactly the YAML files the directory holds; undefined otherwise (read the YAML).
 */
export function readCapture(dir: string, yamlFiles: string[]): Map<string, unknown[]> | undefined {
  let captured: { [file: string]: { stamp: string; docs: unknown[] } };
  try {
    captured = JSON.parse(fs.readFileSync(`${dir}.json`, 'utf8'));
  } catch {
    return undefined;
  }
  const byFile = new Map(Object.entries(captured).map(([file, entry]) => [path.resolve(dir, file), entry]));
  // The same files, each as Yaml.save left it (not written again since, by the app or anyone).
  if (byFile.size !== yamlFiles.length || !yamlFiles.every((f) => byFile.get(path.resolve(f))?.stamp === stampOf(f))) {
    return undefined;
  }
  return new Map(yamlFiles.map((f) => [f, byFile.get(path.resolve(f))!.docs]));
}
