import type { Vpc } from '../../../projections/mod.js';
import type { DesiredRow } from '../desired-row.js';
import { externalIds, rowName, rowUuid } from '../names.js';
import type { Ownership } from '../names.js';

/** A VPC is one Logical_Router; its `ports`, `static_routes`, `nat` and `load_balancer` are maintained by the rows they hold. */
export function vpcRouter(own: Ownership, vpc: Vpc): DesiredRow {
  return {
    table: 'Logical_Router',
    uuid: rowUuid.logicalRouter(vpc.id),
    role: 'logicalRouter',
    columns: { name: rowName.logicalRouter(vpc.id), external_ids: externalIds(own, { kind: 'vpc', id: vpc.id }, vpc.scope, vpc.seq, vpc.name) },
    referencedBy: [],
  };
}
