/**
 * Jest transformer: TypeScript → CommonJS with esbuild, file by file (no type check, like ts-jest with
 * `isolatedModules`, which this replaces: jsii, the type-aware eslint rules and test/typecheck.test.ts check
 * types). The options mirror tsconfig.json where output depends on them: strict mode (`alwaysStrict`: esbuild
 * emits "use strict" only when told, and sloppy mode would let code pass that throws in the library as built) and
 * ES2022 class fields with define semantics (`useDefineForClassFields` is on by default from target ES2022, as tsc
 * emits for the library).
 */
'use strict';
const { createHash } = require('crypto');
const fs = require('fs');
const esbuild = require('esbuild');

const OPTIONS = {
  loader: 'ts',
  format: 'cjs',
  platform: 'node',
  target: 'es2022',
  sourcemap: 'external',
  sourcesContent: false,
  tsconfigRaw: { compilerOptions: { alwaysStrict: true, target: 'ES2022', useDefineForClassFields: true, experimentalDecorators: true } },
};

/** What the output depends on besides the file: this transformer, esbuild's version and the options. */
const SALT = createHash('sha256')
  .update(fs.readFileSync(__filename))
  .update(esbuild.version)
  .update(JSON.stringify(OPTIONS))
  .digest('hex');

/** TypeScript → CommonJS, with the options above (also what test/cli/_build.ts builds the CLI with). */
function transpileTypeScript(source, filename) {
  const result = esbuild.transformSync(source, { ...OPTIONS, sourcefile: filename });
  return { code: result.code, map: JSON.parse(result.map) };
}

module.exports = {
  SALT,
  transpileTypeScript,
  canInstrument: false,
  getCacheKey(source, filename, options) {
    // `instrument`: jest caches under this key alone, and code instrumented for coverage (babel provider) differs.
    return createHash('sha256').update(SALT).update(`\0${Boolean(options?.instrument)}\0`).update(filename).update('\0').update(source)
      .digest('hex');
  },
  process: transpileTypeScript,
};
