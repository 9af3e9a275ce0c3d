/**
 * The synth hook's YAML capture (src/cli/_yaml-capture.ts): cached documents are byte-identical to
 * cdk8s's own `Yaml.stringify`, and a stage read from its capture gives the objects its YAML gives.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Chart, Yaml } from 'cdk8s';
import { tmpDir } from './_cli';
import { MeshRelease, ReleasePlan } from '../../src';
import { beginStage, endStage, patchYaml, readCapture, writeCapture } from '../../src/cli/_yaml-capture';
import { readManifests } from '../../src/cli/manifests';

const original = Yaml.stringify;
// The real cdk8s module, patched as the hook patches the copy an app loads.
// eslint-disable-next-line @typescript-eslint/no-require-imports
patchYaml(require('cdk8s'));

const DOCS: any[] = [
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { yes: 'on', octal: '0775', empty: '', multi: 'a\nb\n', num: '1e3' } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'undefined-value' }, data: { gone: undefined } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'date' }, data: { when: new Date(0) } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'numbers' }, spec: { zero: -0, nan: NaN, inf: Infinity, big: 2 ** 60 } },
  { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'in-list' } }] },
  undefined,
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'deep', labels: { 'a/b': 'x' } }, data: { list: [[1, 2], { k: null }] } },
];

describe('the YAML capture of the synth hook', () => {
  test('cached documents are byte-identical to Yaml.stringify, stage after stage, whatever the values', () => {
    expect(Yaml.stringify).not.toBe(original);
    for (let stage = 0; stage < 3; stage++) {
      beginStage();
      expect(Yaml.stringify(...DOCS)).toBe(original.call(Yaml, ...DOCS));
      for (const doc of DOCS) {
        expect(Yaml.stringify(doc)).toBe(original.call(Yaml, doc));
      }
      endStage(tmpDir());
    }
  });

  test('a stage of a real release, read from its capture, gives the objects its YAML gives', () => {
    const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50] });
    let before: string | undefined;
    for (const name of plan.stageNames) {
      const dir = path.join(tmpDir(), 'stage');
      beginStage();
      const app = new App({ outdir: dir });
      const chart = new Chart(app, 'shop', { namespace: 'shop' });
      new MeshRelease(chart, 'helloworld', {
        app: 'helloworld',
        port: 8080,
        stage: plan.stage(name),
        versions: [{ version: 'v1', image: 'example/helloworld:1.0.0' }, { version: 'v2', image: 'example/helloworld:2.0.0' }],
      });
      app.synth();
      const capture = endStage(dir);
      writeCapture(dir, capture);
      expect(Object.keys(capture.files!)).toEqual(['shop.k8s.yaml']);

      const fromCapture = readManifests(dir, { documents: (files) => readCapture(dir, files) });
      const fromYaml = readManifests(dir);
      expect(fromCapture.objects).toEqual(fromYaml.objects);
      expect(fromCapture.objects.length).toBeGreaterThan(5);
      // The YAML written is what cdk8s writes without the cache.
      const text = fs.readFileSync(path.join(dir, 'shop.k8s.yaml'), 'utf8');
      expect(text).toBe(original.call(Yaml, ...chart.toJson()));
      expect(text).not.toBe(before);
      before = text;
    }
  });

  test('a file with a document JSON cannot spell (undefined, a Date, -0, NaN) is read from its YAML', () => {
    const dir = path.join(tmpDir(), 'stage');
    fs.mkdirSync(dir);
    beginStage();
    Yaml.save(path.join(dir, 'a.yaml'), DOCS);
    const capture = endStage(dir);
    expect(capture.files).toBeUndefined();
    writeCapture(dir, capture);
    expect(fs.existsSync(`${dir}.json`)).toBe(false);
    expect(readManifests(dir, { documents: (files) => readCapture(dir, files) }).objects).toEqual(readManifests(dir).objects);
  });

  test('a YAML file the app wrote without Yaml.save, or a file saved and then removed, makes the capture unused', () => {
    const dir = path.join(tmpDir(), 'stage');
    fs.mkdirSync(dir);
    beginStage();
    Yaml.save(path.join(dir, 'a.yaml'), [DOCS[0]]);
    Yaml.save(path.join(dir, 'b.yaml'), [DOCS[4], undefined]);
    writeCapture(dir, endStage(dir));
    const files = () => readManifests(dir).files;
    expect(readCapture(dir, files())).toBeDefined();
    expect(readManifests(dir, { documents: (f) => readCapture(dir, f) }).objects).toEqual(readManifests(dir).objects);

    fs.writeFileSync(path.join(dir, 'c.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: extra}\n');
    expect(readCapture(dir, files())).toBeUndefined();
    expect(readManifests(dir, { documents: (f) => readCapture(dir, f) }).objects.map((o) => o.metadata.name)).toEqual(['a', 'in-list', 'extra']);

    fs.rmSync(path.join(dir, 'b.yaml'));
    fs.rmSync(path.join(dir, 'c.yaml'));
    expect(readCapture(dir, files())).toBeUndefined();
  });

  test('files saved outside the stage directory are not part of its capture', () => {
    const root = tmpDir();
    const dir = path.join(root, 'stage');
    fs.mkdirSync(dir);
    beginStage();
    Yaml.save(path.join(dir, 'a.yaml'), [DOCS[0]]);
    Yaml.save(path.join(root, 'elsewhere.yaml'), [DOCS[6]]);
    expect(Object.keys(endStage(dir).files!)).toEqual(['a.yaml']);
  });
});

describe('what the capture does not cover is read from the YAML', () => {
  test('a file written again after Yaml.save (by the app, or anyone) is read from its YAML', () => {
    const dir = path.join(tmpDir(), 'stage');
    fs.mkdirSync(dir);
    beginStage();
    Yaml.save(path.join(dir, 'a.yaml'), [DOCS[0]]);
    writeCapture(dir, endStage(dir));
    expect(readCapture(dir, [path.join(dir, 'a.yaml')])).toBeDefined();
    fs.appendFileSync(path.join(dir, 'a.yaml'), '---\napiVersion: v1\nkind: Secret\nmetadata: {name: added}\n');
    expect(readCapture(dir, [path.join(dir, 'a.yaml')])).toBeUndefined();
    expect(readManifests(dir, { documents: (f) => readCapture(dir, f) }).objects.map((o) => o.metadata.name)).toEqual(['a', 'added']);
  });

  test('a document with an object reached twice (written with a YAML anchor) is not cached, nor lends its text', () => {
    const shared = { app: 'x' };
    const anchored = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'anchors', labels: shared, annotations: shared } };
    const plain = JSON.parse(JSON.stringify(anchored));
    beginStage();
    expect(Yaml.stringify(anchored)).toBe(original.call(Yaml, anchored));
    expect(Yaml.stringify(plain)).toBe(original.call(Yaml, plain));
    expect(Yaml.stringify(plain)).not.toContain('&');
    endStage(tmpDir());
  });
});
