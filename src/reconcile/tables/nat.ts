import { intToIp } from '../../../projections/mod.js';
import type { ExternalIp, ExternalIpAttachment, NatGateway, Port, Subnet } from '../../../projections/mod.js';
import type { DesiredRow } from '../desired-row.js';
import { externalIds, rowUuid } from '../names.js';
import type { Ownership } from '../names.js';

/** A NAT gateway's SNAT: one rule per subnet of its VPC, so outbound traffic leaves with the gateway's address. */
export function gatewaySnat(own: Ownership, gateway: NatGateway, ip: ExternalIp, subnets: readonly Subnet[]): DesiredRow[] {
  const ids = externalIds(own, { kind: 'natgateway', id: gateway.id }, gateway.scope, gateway.seq);
  return subnets.map((subnet): DesiredRow => ({
    table: 'NAT',
    uuid: rowUuid.snat(gateway.id, subnet.id),
    columns: { type: 'snat', external_ip: ip.address, logical_ip: subnet.cidr, external_ids: ids },
    referencedBy: [{ table: 'Logical_Router', uuid: rowUuid.logicalRouter(gateway.vpcId), column: 'nat' }],
  }));
}

/** A floating IP: 1:1 NAT both ways between the external IP and the port's address. */
export function attachmentNat(own: Ownership, attachment: ExternalIpAttachment, ip: ExternalIp, port: Port): DesiredRow {
  return {
    table: 'NAT',
    uuid: rowUuid.attachmentNat(attachment.id),
    role: 'nat',
    columns: {
      type: 'dnat_and_snat', external_ip: ip.address, logical_ip: intToIp(port.ip), logical_port: [port.id],
      external_ids: externalIds(own, { kind: 'externalipattachment', id: attachment.id }, attachment.scope, attachment.seq),
    },
    referencedBy: [{ table: 'Logical_Router', uuid: rowUuid.logicalRouter(port.vpcId), column: 'nat' }],
  };
}
