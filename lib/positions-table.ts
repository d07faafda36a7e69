import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  type ITable,
} from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { POSITIONS_TABLE_SCHEMA } from '../shared/table-schema';

/** Properties of {@link PositionsTable}. */
export interface PositionsTableProps {
  /**
   * Emit a DynamoDB stream (new and old images), for consumers outside this project.
   * @default false
   */
  readonly stream?: boolean;
}

const ATTRIBUTE_TYPES: Record<'S' | 'N' | 'B', AttributeType> = {
  S: AttributeType.STRING,
  N: AttributeType.NUMBER,
  B: AttributeType.BINARY,
};

/**
 * The positions table shared by every account, built from `shared/table-schema.ts` (the same definition
 * the local stand-in uses): on-demand, point-in-time recovery, deletion protection, and retained when
 * the stack is deleted, because it is the only record of what the pipeline holds at the broker.
 */
export class PositionsTable extends Construct {
  /** The table. */
  readonly table: ITable;
  /** The sparse GSI the sweep queries for an account's live positions. */
  readonly liveIndexName: string;

  constructor(scope: Construct, id: string, props: PositionsTableProps = {}) {
    super(scope, id);
    const { partitionKey, sortKey, liveIndex } = POSITIONS_TABLE_SCHEMA;

    const table = new Table(this, 'Table', {
      partitionKey: { name: partitionKey.name, type: ATTRIBUTE_TYPES[partitionKey.type] },
      sortKey: { name: sortKey.name, type: ATTRIBUTE_TYPES[sortKey.type] },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      stream: props.stream ? StreamViewType.NEW_AND_OLD_IMAGES : undefined,
    });
    // The sweep reads whole positions from the index, so it projects every attribute. The index is
    // sparse: only live positions carry `live_account`.
    table.addGlobalSecondaryIndex({
      indexName: liveIndex.indexName,
      partitionKey: { name: liveIndex.partitionKey.name, type: ATTRIBUTE_TYPES[liveIndex.partitionKey.type] },
      sortKey: { name: liveIndex.sortKey.name, type: ATTRIBUTE_TYPES[liveIndex.sortKey.type] },
      projectionType: ProjectionType.ALL,
    });

    this.table = table;
    this.liveIndexName = liveIndex.indexName;
  }
}
