import { fileURLToPath } from 'node:url';

// This file lives in packages/testing/src (tests, tsx) or packages/testing/dist
// (built): both are three levels below the repository root.
const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Absolute path of the repository root, with a trailing separator. */
export function repoRoot(): string {
  return root;
}
