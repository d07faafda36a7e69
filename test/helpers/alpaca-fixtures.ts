/**
 * The team's real Alpaca payloads (`../shared/alpaca-fixtures/` beside the checkout; public data kept only
 * there, never copied into the repository). Tests that read them skip, saying so, where the folder is
 * absent (a clone elsewhere), and fail under CI=true, where it is always present.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The folder: `<repo>/../shared/alpaca-fixtures`. */
export const FIXTURES_DIR = path.resolve(__dirname, '../../../shared/alpaca-fixtures');

/** One fixture: the request it answers and the payload as published. */
export interface AlpacaFixture {
  readonly id: string;
  readonly http?: { method: string; path: string; status: number; shape?: string } | null;
  readonly body: unknown;
  readonly asset_class?: string;
}

/** True when the folder is there. Under CI=true its absence is an error. */
export function fixturesAvailable(): boolean {
  if (fs.existsSync(FIXTURES_DIR)) return true;
  if (process.env.CI === 'true') {
    throw new Error(`CI=true but the Alpaca fixtures are absent: ${FIXTURES_DIR}`);
  }
  console.warn(`Alpaca fixtures not found at ${FIXTURES_DIR}: the fixture contract tests are SKIPPED`);
  return false;
}

/** The fixtures of one file (`orders.json`, ...). */
export function loadFixtures(file: string): AlpacaFixture[] {
  const raw = JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, file), 'utf8')) as {
    fixtures: AlpacaFixture[];
  };
  return raw.fixtures;
}

/** Every fixture file name in the folder. */
export function fixtureFiles(): string[] {
  return fs
    .readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
}
