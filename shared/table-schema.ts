/**
 * The positions table's key schema, in one place: the CDK stack and the local stand-in (dynalite) both
 * create the table from this definition.
 *
 * - Item key: `pk = ACCT#<account>`, `sk = POS#<position_id>` (position_id = recommendation_id).
 * - `live-positions` GSI: partition `live_account` (= account name), sort `sk`. The attribute is present
 *   only while the position is live (submitting, pending, open, closing) and removed when it closes, so
 *   the index is sparse and the sweep's query never touches closed history.
 * - Every item an account's functions read or write has a key derived from the account name alone: its
 *   positions, its kill-switch item (`sk = CONTROL`), its sweep lease (`sk = SWEEP_LEASE`), its
 *   rejections (`sk = REJ#...`) and its days' books (`sk = DAYPNL#<trading day>`: each position's day
 *   figures, the start marks) all sit in partition `ACCT#<account>`, and its live positions in index partition `<account>`. That is what lets each
 *   function's IAM role be limited to its own account's items with `dynamodb:LeadingKeys`
 *   (lib/pipeline-function.ts). Keep it so: an item shared by accounts, or keyed by anything but these two
 *   values, could not be reached under that condition.
 */
export const POSITIONS_TABLE_SCHEMA = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  liveIndex: {
    indexName: 'live-positions',
    partitionKey: { name: 'live_account', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
  },
} as const;

/** The table partition key value of every item of an account. */
export const positionPk = (account: string): string => `ACCT#${account}`;
/** The live-positions index partition key value of an account's live positions. */
export const liveIndexPk = (account: string): string => account;
export const positionSk = (positionId: string): string => `POS#${positionId}`;
