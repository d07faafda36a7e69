/**
 * The positions table's key schema, in one place: the CDK stack and the local stand-in (dynalite) both
 * create the table from this definition.
 *
 * - Item key: `pk = ACCT#<account>`, `sk = POS#<position_id>` (position_id = recommendation_id).
 * - `live-positions` GSI: partition `live_account` (= account name), sort `sk`. The attribute is present
 *   only while the position is live (submitting, pending, open, closing) and removed when it closes, so
 *   the index is sparse and the sweep's query never touches closed history.
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

export const positionPk = (account: string): string => `ACCT#${account}`;
export const positionSk = (positionId: string): string => `POS#${positionId}`;
