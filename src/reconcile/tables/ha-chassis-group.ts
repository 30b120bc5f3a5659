import { PROVIDER_SCOPE } from '../../../events/mod.js';
import type { NetworkClass } from '../../../projections/mod.js';
import type { DesiredRow } from '../desired-row.js';
import { externalIds, rowName, rowUuid } from '../names.js';
import type { Ownership } from '../names.js';

/**
 * The chassis serving a class's bare-metal hosts: one HA_Chassis_Group per class with one
 * HA_Chassis per chassis, by priority. The highest-priority live chassis claims the class's
 * external ports and answers their DHCP and ARP over the localnet port (ovn-nb(5), type external).
 */
export function baremetalChassisGroup(own: Ownership, cls: NetworkClass): DesiredRow[] {
  if (!cls.baremetal) return [];
  const ids = externalIds(own, { kind: 'networkclass', id: cls.id }, PROVIDER_SCOPE, cls.seq, cls.name);
  return [
    {
      table: 'HA_Chassis_Group',
      uuid: rowUuid.haChassisGroup(cls.id),
      role: 'haChassisGroup',
      columns: { name: rowName.haChassisGroup(cls.id), external_ids: ids },
      referencedBy: [],
    },
    ...cls.baremetal.chassis.map((c): DesiredRow => ({
      table: 'HA_Chassis',
      uuid: rowUuid.haChassis(cls.id, c.name),
      columns: { chassis_name: c.name, priority: c.priority, external_ids: ids },
      referencedBy: [{ table: 'HA_Chassis_Group', uuid: rowUuid.haChassisGroup(cls.id), column: 'ha_chassis' }],
    })),
  ];
}
