/**
 * Issue 26, item 4: a live account on the `indicative` option feed (Alpaca's default without an OPRA
 * subscription; its prices are not the tradable market) is an explicit deploy-time choice.
 */
import { CDK_JSON_CONTEXT, environmentOf, logicalId, pipelineOf, synthesize } from './synth';

const accounts = (...a: object[]): string => JSON.stringify(a);

describe('market_data.feed at synth', () => {
  it('refuses a live account on the default indicative feed, naming the account, the field and the flag', () => {
    expect(() =>
      synthesize({
        accounts: accounts({ name: 'main', paper: false }),
        allowLive: 'true',
        alarmEmail: 'ops@example.com',
      }),
    ).toThrow(/Account "main" is live .*"indicative".*market_data.feed.*-c allowLiveIndicative=true/);
  });

  it('refuses a live account that names indicative explicitly, unless the deploy confirms it', () => {
    const live = accounts({ name: 'main', paper: false, market_data: { feed: 'indicative' } });
    expect(() => synthesize({ accounts: live, allowLive: 'true', alarmEmail: 'ops@example.com' })).toThrow(
      /allowLiveIndicative=true/,
    );
    expect(() =>
      synthesize({
        accounts: live,
        allowLive: 'true',
        alarmEmail: 'ops@example.com',
        allowLiveIndicative: 'false',
      }),
    ).toThrow(/allowLiveIndicative=true/);
    expect(() =>
      synthesize({
        accounts: live,
        allowLive: 'true',
        alarmEmail: 'ops@example.com',
        allowLiveIndicative: 'true',
      }),
    ).not.toThrow();
  });

  it('accepts a live account on opra, and paper accounts on indicative, without the flag', () => {
    const { stack, template } = synthesize({
      accounts: accounts({ name: 'main', paper: false, market_data: { feed: 'opra' } }, { name: 'tiny' }),
      allowLive: 'true',
      alarmEmail: 'ops@example.com',
    });
    const main = pipelineOf(stack, 'main');
    const cfg = JSON.parse(
      environmentOf(template, logicalId(main.exitEvaluatorFunction)).ACCOUNT_CONFIG as string,
    );
    expect(cfg.market_data).toEqual({ feed: 'opra' });
  });

  it('refuses a confirmation that is neither true nor false', () => {
    expect(() => synthesize({ accounts: accounts({ name: 'main' }), allowLiveIndicative: 'maybe' })).toThrow(
      /context "allowLiveIndicative": expected true or false, got "maybe"/,
    );
  });

  it('cdk.json shows the feed of its main account', () => {
    const main = (CDK_JSON_CONTEXT.accounts as Array<Record<string, unknown>>).find((a) => a.name === 'main');
    expect(main?.market_data).toEqual({ feed: 'indicative' });
  });
});
