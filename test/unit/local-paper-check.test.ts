/**
 * `npm start` with paper keys checks them once before starting (GET /v2/account, GET /v2/clock) and stops
 * with one clear message when Alpaca refuses them or cannot be reached. Checked against local HTTP servers
 * that answer as Alpaca does (never the real Alpaca).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalModeError } from '../../local/mode';
import { checkPaperAccess } from '../../local/paper-check';
import { startLocalStack } from '../../local/stack';

/** A server answering every request with `status` and `body`; records the paths and key headers. */
async function server(answer: (path: string) => [number, unknown]) {
  const seen: Array<{ path: string; key: string | undefined }> = [];
  const s = http.createServer((req, res) => {
    seen.push({ path: req.url ?? '', key: req.headers['apca-api-key-id'] as string | undefined });
    const [status, body] = answer(req.url ?? '');
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => s.close(() => r())) };
}

const keys = { keyId: 'PKBAD', secretKey: 'nope' };

describe('checkPaperAccess', () => {
  it('passes with accepted keys, reading the account and the clock', async () => {
    const s = await server((p) =>
      p === '/v2/account'
        ? [200, { account_number: 'PA123', status: 'ACTIVE' }]
        : [200, { is_open: false, timestamp: '2026-11-28T10:00:00Z' }],
    );
    try {
      await expect(checkPaperAccess({ ...keys, tradingBaseUrl: s.url })).resolves.toEqual({
        accountNumber: 'PA123',
        status: 'ACTIVE',
        marketOpen: false,
      });
      expect(s.seen).toEqual([
        { path: '/v2/account', key: 'PKBAD' },
        { path: '/v2/clock', key: 'PKBAD' },
      ]);
    } finally {
      await s.close();
    }
  });

  it('stops with one message naming the refusal and the variables to check on a 401', async () => {
    const s = await server(() => [401, { code: 40110000, message: 'request is not authorized' }]);
    try {
      const err = await checkPaperAccess({ ...keys, tradingBaseUrl: s.url }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LocalModeError);
      expect((err as Error).message).toMatch(
        /^Alpaca's paper API refused your keys \(401 .*request is not authorized.* on GET \/v2\/account\)\. Check APCA_API_KEY_ID \/ APCA_API_SECRET_KEY/,
      );
      expect(s.seen).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it('says the host cannot be reached when nothing listens (connection refused)', async () => {
    const s = await server(() => [200, {}]);
    await s.close(); // the port is now closed
    await expect(checkPaperAccess({ ...keys, tradingBaseUrl: s.url })).rejects.toThrow(
      new RegExp(`^cannot reach Alpaca's paper API at ${s.url} \\(GET /v2/account: ECONNREFUSED\\)`),
    );
  });

  it('reports another answer (a 500 on the clock) with its status', async () => {
    const s = await server((p) => (p === '/v2/account' ? [200, {}] : [500, { message: 'internal' }]));
    try {
      await expect(checkPaperAccess({ ...keys, tradingBaseUrl: s.url })).rejects.toThrow(
        /answered 500 to GET \/v2\/clock/,
      );
    } finally {
      await s.close();
    }
  });
});

describe('startLocalStack in paper mode', () => {
  it('stops before starting anything when the keys are refused, and leaves no state behind', async () => {
    const s = await server(() => [403, { message: 'forbidden.' }]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ops-paper-check-'));
    try {
      await expect(
        startLocalStack({
          broker: { kind: 'paper', ...keys },
          paperTradingUrl: s.url,
          stateDir: dir,
        }),
      ).rejects.toThrow(/refused your keys \(403/);
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
