import type { Broker, BrokerAccount, MarketClock, MarketData, OptionQuote } from '../ports';

/**
 * Broker reads shared by every record of one SQS batch: the clock, the account and one quote snapshot
 * call for all the batch's symbols. Keeps the open path near one broker call per recommendation (the order).
 */
export class BrokerSnapshot {
  private clockP?: Promise<MarketClock>;
  private accountP?: Promise<BrokerAccount>;
  private quotesP?: Promise<Map<string, OptionQuote>>;
  private spentBuyingPower = 0;

  constructor(
    private readonly broker: Broker,
    private readonly marketData: MarketData,
    private readonly symbols: readonly string[] = [],
  ) {}

  clock(): Promise<MarketClock> {
    this.clockP ??= this.broker.getClock();
    this.clockP.catch(() => (this.clockP = undefined));
    return this.clockP;
  }

  /** The account, with buying power reduced by what earlier records of this batch already spent. */
  async account(): Promise<BrokerAccount> {
    this.accountP ??= this.broker.getAccount();
    this.accountP.catch(() => (this.accountP = undefined));
    const a = await this.accountP;
    return { ...a, optionsBuyingPower: a.optionsBuyingPower - this.spentBuyingPower };
  }

  /**
   * Starts the batch's shared reads (clock, account, the quote snapshot) together, instead of one after
   * the other as the first record reaches each. The same reads the batch makes anyway; a failure is
   * left for the record that needs the read (it asks again).
   */
  prefetch(): void {
    void this.clock().catch(() => undefined);
    void this.account().catch(() => undefined);
    if (this.symbols.length > 0) void this.quote(this.symbols[0]).catch(() => undefined);
  }

  spend(dollars: number): void {
    this.spentBuyingPower += dollars;
  }

  async quote(symbol: string): Promise<OptionQuote | undefined> {
    if (!this.symbols.includes(symbol)) return (await this.marketData.getOptionQuotes([symbol])).get(symbol);
    this.quotesP ??= this.marketData.getOptionQuotes(this.symbols);
    this.quotesP.catch(() => (this.quotesP = undefined));
    return (await this.quotesP).get(symbol);
  }
}
