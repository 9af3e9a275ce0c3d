/** Types of the jest transform (`_transform.js`, CommonJS for jest), for the tests that call it. */

/** What the transform's output depends on besides the file: the transform itself, esbuild's version and its options. */
export declare const SALT: string;

/** TypeScript → CommonJS with the transform's options. */
export declare function transpileTypeScript(source: string, filename: string): { code: string; map: unknown };
