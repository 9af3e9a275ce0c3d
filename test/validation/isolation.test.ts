import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';

const DIR = join(__dirname, '../../src/validation');

test('src/validation imports nothing from cdk8s, cdk8s-plus or constructs (the CLI calls _validate.ts without them)', () => {
  const offenders = readdirSync(DIR).filter(f => f.endsWith('.ts')).flatMap(file => {
    const text = readFileSync(join(DIR, file), 'utf8');
    const specifiers = [...text.matchAll(/(?:from\s+|require\()\s*['"`]([^'"`]+)['"`]/g)].map(m => m[1]);
    return specifiers.filter(s => /^(cdk8s|cdk8s-plus-\d+|constructs)(\/|$)/.test(s) || s.startsWith('..') && !s.startsWith('../imports/') && s !== '../_conventions')
      .map(s => `${file}: ${s}`);
  });
  expect(offenders).toEqual([]);
  // The one module of the library it may use, the home of names and DNS rules, imports nothing.
  expect(readFileSync(join(DIR, '../_conventions.ts'), 'utf8')).not.toMatch(/^\s*import\b|require\(/m);
});

test('schema-validation.ts loads the validator lazily (no runtime import of the private modules)', () => {
  const text = readFileSync(join(DIR, 'schema-validation.ts'), 'utf8');
  expect(text).not.toMatch(/^import (?!type )/m);
});
