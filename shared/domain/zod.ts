/**
 * The project's zod: `zod/mini` (same validation as full zod, a fraction of the bundle size — see
 * docs/BENCHMARKS.md) with English messages, plus a formatter that turns issues into one readable line.
 */
import * as z from 'zod/mini';
import { en } from 'zod/locales';

z.config(en());

export { z };

/** `path.to.field: message; other: message` — specific enough to act on from a log line or DLQ entry. */
export function formatZodError(error: z.core.$ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
