/**
 * The project's zod setup. Schemas import `zod/mini` directly (`import * as z from 'zod/mini'`): the same
 * validation as full zod, and a namespace import esbuild can tree-shake (re-exporting the namespace from here
 * kept all of zod and every locale in the bundle; the sizes are in docs/BENCHMARKS.md). This module loads the
 * English messages only, once, and turns issues into one readable line.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.cjs';

z.config(en());

/** `path.to.field: message; other: message` — specific enough to act on from a log line or DLQ entry. */
export function formatZodError(error: z.core.$ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
