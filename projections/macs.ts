/** MACs in use, counted: a MAC is free again only when its last user (port, pair, router port) goes. */
export interface MacUse {
  /**
   * Every MAC in use (ports, their pairs, router ports, gateway ports) with how many use it:
   * generated MACs must be unique, and a MAC is free only when its last user goes.
   */
  readonly macs: Map<string, number>;
}

export function useMac(view: MacUse, mac: string): void {
  view.macs.set(mac, (view.macs.get(mac) ?? 0) + 1);
}

export function freeMac(view: MacUse, mac: string): void {
  const users = (view.macs.get(mac) ?? 0) - 1;
  if (users > 0) view.macs.set(mac, users);
  else view.macs.delete(mac);
}
