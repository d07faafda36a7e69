/**
 * Keeps the reliability tests' output readable: Powertools metrics are disabled (no EMF on stdout) and,
 * with POWERTOOLS_DEV, their one remaining warning ("No application metrics to publish") goes through the
 * global console, where it is dropped. Import before the handlers are created.
 */
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_DEV = 'true';
const consoleWarn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].startsWith('No application metrics to publish')) return;
  consoleWarn(...args);
};

export {};
