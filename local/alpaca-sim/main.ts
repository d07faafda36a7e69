/**
 * CLI: `npx tsx local/alpaca-sim/main.ts --port 0 --seed 1 [--latency 20] [--walk-ms 1000] [--closed]`.
 * Starts the simulator with auto-created accounts (any key id/secret pair works), a small demo chain,
 * and a seeded random walk; prints the URL to use as APCA_API_BASE_URL and APCA_API_DATA_URL.
 */
import { startAlpacaSim } from './index';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const seed = Number(arg('seed') ?? 1);
  const sim = await startAlpacaSim({
    port: Number(arg('port') ?? 0),
    latencyMs: Number(arg('latency') ?? 0),
    marketOpen: !process.argv.includes('--closed'),
    autoCreateAccounts: { cash: 100_000 },
    seed,
  });
  const expiry = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  sim.addChain({
    underlying: 'SPY',
    underlyingPrice: 600,
    expiries: [expiry],
    strikes: [580, 590, 600, 610, 620],
  });
  sim.startRandomWalk({ seed, intervalMs: Number(arg('walk-ms') ?? 1000), volatility: 0.01 });
  console.log(sim.url);
  const stop = () => {
    void sim.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
