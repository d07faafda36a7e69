/**
 * The shape of one simulated non-trade activity, apart from the code that writes and lists them
 * (`activities.ts`), so the account (`engine.ts`) can hold them without importing that code back.
 */
/** Activity types the simulator writes. */
export type SimActivityType = 'OPASN' | 'OPEXC' | 'OPEXP' | 'OPTRD' | 'FEE';

/** One activity as stored (numbers as numbers; `activityJson` renders Alpaca's strings). */
export interface SimActivity {
  /** `YYYYMMDDHHMMSSmmm::uuid`, Alpaca's format (sortable by time). */
  readonly id: string;
  readonly type: SimActivityType;
  /** New York date the activity was booked. */
  readonly date: string;
  /** ISO instant it was written (orders `after`/`until` and the sort). */
  readonly at: string;
  readonly seq: number;
  readonly symbol: string;
  /** Signed: the position change (options) or shares bought (+) / sold (-) (OPTRD). */
  readonly qty: number;
  /** Dollars, signed (cash in +, out -). */
  readonly netAmount: number;
  /** OPTRD: per-share price (the strike). */
  readonly price: number | null;
  readonly description: string;
  /** FEE: the fee's kind (`TAF`, `ORF`, `OCC`, `CAT`, ...; Alpaca's changelog 2026-11-06). */
  readonly subType?: string;
  /**
   * When the activity shows in the listing (ISO; absent: at once). On paper, option events are synced at
   * the start of the next day (AO "Behaviour the simulator must copy"): see `optionEventsSync`.
   */
  visibleAt?: string;
}
