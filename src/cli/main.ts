#!/usr/bin/env node
// The `mesh-release` bin (lib/cli/main.js). Exports nothing: the CLI lives in ./program.
import { main } from './program';

void main(process.argv).then((code) => {
  process.exitCode = code;
});
