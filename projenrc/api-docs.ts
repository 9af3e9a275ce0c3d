/**
 * The second step of the `docgen` task, after `jsii-docgen --split-by-submodule -o docs/api/API`:
 *
 * - API.md, at the root, documents the library's own API; the generated CRD classes of the submodules
 *   (`networking`, `security`, `gatewayApi`: ~0.9 MB of upstream field docs) get a file each in docs/api/, linked
 *   from API.md's "Submodules" section;
 * - a heading written in a doc comment (Gateway API's field docs have `## Distinct Listeners`, ...) becomes a bold
 *   line: jsii-docgen's own headings use all six levels (a parameter is `######`), so no level is left below the
 *   section it sits in, and as a heading it would break the document's outline. jsii-docgen's headings are the
 *   ones with an anchor (`<a name="..." id="..."></a>`).
 *
 * Run by `npx projen docgen` (after `npx projen compile`): `node -r ts-node/register/transpile-only projenrc/api-docs.ts`.
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'fs';
import { join, relative } from 'path';

const ROOT = join(__dirname, '..');
/** Where `jsii-docgen --split-by-submodule -o docs/api/API` writes (the index, API.md, and one file per submodule). */
export const SUBMODULE_DOCS_DIR = join(ROOT, 'docs', 'api');

const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const DOCGEN_ANCHOR = /<a name="[^"]*" id="[^"]*"><\/a>\s*$/;
const FENCE = /^\s*(```|~~~)/;

/** `markdown` with every heading that jsii-docgen did not write (no anchor; outside code blocks) turned into a bold line. */
export function demoteDocCommentHeadings(markdown: string): { text: string; demoted: number } {
  let inFence: string | undefined;
  let demoted = 0;
  const lines = markdown.split('\n').map((line) => {
    const fence = FENCE.exec(line)?.[1];
    if (fence && (!inFence || fence === inFence)) {
      inFence = inFence ? undefined : fence;
      return line;
    }
    const heading = inFence ? undefined : HEADING.exec(line);
    if (!heading || DOCGEN_ANCHOR.test(line)) return line;
    demoted++;
    return `**${heading[2]}**`;
  });
  return { text: lines.join('\n'), demoted };
}

function main(): void {
  const index = join(SUBMODULE_DOCS_DIR, 'API.md');
  if (!existsSync(index)) throw new Error(`${relative(ROOT, index)} not found: run \`jsii-docgen --split-by-submodule -o docs/api/API\` first`);
  const submoduleFiles = readdirSync(SUBMODULE_DOCS_DIR).filter((f) => f.endsWith('.md') && f !== 'API.md');
  const link = relative(ROOT, SUBMODULE_DOCS_DIR).split('\\').join('/');
  for (const file of submoduleFiles) {
    const path = join(SUBMODULE_DOCS_DIR, file);
    const { text, demoted } = demoteDocCommentHeadings(readFileSync(path, 'utf8'));
    writeFileSync(path, text);
    console.log(`${link}/${file}: ${text.length} characters, ${demoted} heading(s) of doc comments demoted`);
  }
  let api = readFileSync(index, 'utf8');
  for (const file of submoduleFiles) api = api.split(`](./${file})`).join(`](./${link}/${file})`);
  const { text, demoted } = demoteDocCommentHeadings(api);
  writeFileSync(index, text);
  renameSync(index, join(ROOT, 'API.md'));
  console.log(`API.md: ${text.length} characters, ${demoted} heading(s) of doc comments demoted`);
}

if (require.main === module) main();
