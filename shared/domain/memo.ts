/**
 * A pure function's answers, remembered by key: a warm container's sweep asks the same few questions for
 * every position, every minute (the same contracts, expiry dates and prices).
 */

/**
 * `compute` with its answers remembered, at most `max` of them: past that the memory starts again, so an
 * answer is never wrong, only slower. `remember` keeps keys out of the memory (long junk, non-strings).
 */
export function memoize<K, V>(
  compute: (key: K) => V,
  opts: { readonly max?: number; readonly remember?: (key: K) => boolean } = {},
): (key: K) => V {
  const max = opts.max ?? 4096;
  const answers = new Map<K, V>();
  return (key) => {
    if (answers.has(key)) return answers.get(key) as V;
    const value = compute(key);
    if (!opts.remember || opts.remember(key)) {
      if (answers.size >= max) answers.clear();
      answers.set(key, value);
    }
    return value;
  };
}
