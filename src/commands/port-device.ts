import type { Scope } from '../../events/mod.js';
import { deviceKey, targetKey } from '../../projections/mod.js';
import type { Port, View } from '../../projections/mod.js';
import { CommandError, ErrorCode } from './errors.js';
import type { PortClaims } from './port-claims.js';

/**
 * The multi-NIC rules, checked wherever a port joins a device (port.create, port.attach):
 * a device's ports are in subnets of one VPC, and at most one of them is its primary (the
 * one that gets the default route and the device's external IP). Lookups go through the
 * view's device indexes: O(1), whatever the number of ports.
 */
export interface Joining {
  /** Absent for a port being created. */
  readonly portId?: string;
  readonly vpcId: string;
  /** Whether the joining port is (or asks to be) primary; undefined: the default. */
  readonly primary: boolean | undefined;
}

/** Checks that the port may join the device and answers whether it is the device's primary. */
export function joinDevice(view: View, scope: Scope, deviceId: string, port: Joining, claims?: PortClaims): boolean {
  const key = deviceKey(scope, deviceId);
  // Every port of the device is in one VPC, so any other one says which: O(1), not a copy of the set.
  let other: Port | undefined;
  for (const id of view.devicePorts.get(key) ?? []) {
    if (id === port.portId) continue;
    other = view.ports.get(id);
    break;
  }
  // Earlier ports of the same command (port.create with `ports`) are on the device as if committed.
  const claimed = claims?.device(key);
  const sibling = other ?? (claimed && { id: claimed.portId, vpcId: claimed.vpcId });
  if (sibling && sibling.vpcId !== port.vpcId) {
    throw new CommandError(ErrorCode.CONFLICT, `device "${deviceId}" has port ${sibling.id} in VPC ${sibling.vpcId}: a device's ports are in one VPC`, {
      deviceId, portId: sibling.id, vpcId: sibling.vpcId,
    });
  }
  const primaryPortId = view.primaryPortOfDevice.get(key) ?? claimed?.primaryPortId;
  const primary = port.primary ?? sibling === undefined;
  if (primary && primaryPortId !== undefined && primaryPortId !== port.portId) {
    throw new CommandError(ErrorCode.CONFLICT, `device "${deviceId}" already has primary port ${primaryPortId}`, { deviceId, portId: primaryPortId });
  }
  if (port.portId !== undefined) {
    // The device's attachment could reach this port, which has one of its own.
    const own = view.attachmentOfTarget.get(targetKey(scope, { portId: port.portId }));
    const device = view.attachmentOfTarget.get(targetKey(scope, { deviceId }));
    if (own !== undefined && device !== undefined) {
      throw new CommandError(ErrorCode.CONFLICT, `port ${port.portId} has external IP attachment ${own} and device "${deviceId}" has ${device}`, { attachmentId: device, portId: port.portId });
    }
  }
  return primary;
}

