/**
 * How every Lambda is bundled: the esbuild options NodejsFunction gets (infra/membership-stack.ts)
 * and the cold-start benchmark uses to build the same bundles (bench/cold-start.ts).
 */
export const ESBUILD_OPTIONS = {
  format: 'esm',
  platform: 'node',
  target: 'node24',
  minify: true,
  mainFields: ['module', 'main'],
  // ESM output still has CommonJS dependencies that call require().
  banner: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
} as const;
