import type { Scope } from '../../events/mod.js';
import { deviceKey, targetKey } from '../../projections/mod.js';
import type { Port, View } from '../../projections/mod.js';
import { CommandError, ErrorCode } from './errors.js';

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
export function joinDevice(view: View, scope: Scope, deviceId: string, port: Joining): boolean {
  const key = deviceKey(scope, deviceId);
  // Every port of the device is in one VPC, so any other one says which: O(1), not a copy of the set.
  let other: Port | undefined;
  for (const id of view.devicePorts.get(key) ?? []) {
    if (id === port.portId) continue;
    other = view.ports.get(id);
    break;
  }
  if (other && other.vpcId !== port.vpcId) {
    throw new CommandError(ErrorCode.CONFLICT, `device "${deviceId}" has port ${other.id} in VPC ${other.vpcId}: a device's ports are in one VPC`, {
      deviceId, portId: other.id, vpcId: other.vpcId,
    });
  }
  const primaryPortId = view.primaryPortOfDevice.get(key);
  const primary = port.primary ?? other === undefined;
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

