/** MACs in use, counted: a MAC is free again only when its last user (port, pair, router port) goes. */
export interface MacUse {
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
