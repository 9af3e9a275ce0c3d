import { join } from 'path';
import * as ts from 'typescript';

/** The bundled example is a user's app: it must type-check against the published API (imported by package name). */
test('examples/helloworld type-checks', () => {
  const dir = join(__dirname, '..', 'examples', 'helloworld');
  const config = ts.getParsedCommandLineOfConfigFile(join(dir, 'tsconfig.json'), { noEmit: true }, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  })!;
  const program = ts.createProgram(config.fileNames, config.options);
  // The example's own files and the global/option diagnostics; the library is type-checked by its own build,
  // so TypeScript resolves only the declarations the example uses.
  const diagnostics = [
    ...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(),
    ...config.fileNames.map((f) => program.getSourceFile(f)!)
      .flatMap((sf) => [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]),
  ].map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  expect(config.fileNames.map((f) => f.replace(`${dir}/`, ''))).toEqual(['main.ts']);
  expect(diagnostics).toEqual([]);
});
