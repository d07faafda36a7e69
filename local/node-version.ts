/**
 * Node version advice for the CLIs. Lambda runs Node 22 and AWS SDK v3 releases after the first week of
 * January 2027 need it; Node 20.19+ still works here (CI runs 20). The SDK prints a seven-line warning on
 * Node < 22 in every process (over the live view, in every inject); the CLIs print this one line instead.
 */

/** The one-line note for a Node version below 22, or null. */
export function nodeVersionNote(version: string = process.version): string | null {
  const major = Number(/^v?(\d+)/.exec(version)?.[1] ?? 0);
  if (major >= 22) return null;
  return (
    `note: Node ${version} works, but Node 22 is recommended (Lambda runs 22; AWS SDK releases after ` +
    'early January 2027 need it): see .nvmrc'
  );
}

/**
 * Replaces the SDK's multi-line Node warning with {@link nodeVersionNote} (printed with `print`, once per
 * command). Must run before the first AWS SDK client is created.
 */
export function adviseNodeVersion(print: ((line: string) => void) | null = (l) => console.error(l)): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const note = nodeVersionNote();
  if (note && print) print(note);
}
