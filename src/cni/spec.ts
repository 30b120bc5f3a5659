// The CNI side of the agent: the network configuration and environment novanet-cni accepts
// (zod), and results in the shape of each spec version. The agent validates here, not the
// plugin: the plugin must start without loading zod (README, "Pods").
import { z } from 'zod';
import { CNI_VERSIONS } from './protocol.js';
import type { CniVersion } from './protocol.js';

const TenantName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'an org or project matches [a-z0-9][a-z0-9-]{0,62}');
const Tenant = z.strictObject({ org: TenantName, project: TenantName });
export type Tenant = z.infer<typeof Tenant>;

/** A resource by id (a UUID) or by name. */
const Reference = z.string().min(1).max(255).regex(/^\P{Cc}+$/u, 'no control characters');

/** One entry of `cni.dev/valid-attachments` (GC). */
const Attachment = z.object({ containerID: z.string().min(1), ifname: z.string().min(1) });

/**
 * The network configuration (one plugin's entry of a conflist, as the runtime passes it).
 * Unknown keys are refused (a misspelt `subent` is code 7, not a default), except the ones
 * the spec defines for every plugin.
 */
export const NetConf = z.strictObject({
  cniVersion: z.enum(CNI_VERSIONS),
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'a network name is alphanumeric, with _ . -'),
  type: z.string().min(1),
  /** The tenant of every pod, unless `namespaces` maps the pod's Kubernetes namespace. */
  org: TenantName.optional(),
  project: TenantName.optional(),
  /** Kubernetes namespace (K8S_POD_NAMESPACE) → tenant. */
  namespaces: z.record(z.string().min(1).max(63), Tenant).optional(),
  /** The subnet of every pod, by id or by name (a name must be unique in the tenant, or `vpc` narrows it). */
  subnet: Reference,
  vpc: Reference.optional(),
  /** Security groups by id or name (in the subnet's VPC); absent: the VPC's default group; []: none. */
  securityGroups: z.array(Reference).max(16).optional(),
  /** The agent's socket; default /run/novanet/agent.sock. */
  agentSocket: z.string().min(1).optional(),
  // Defined by the spec for every plugin.
  disableCheck: z.boolean().optional(),
  disableGC: z.boolean().optional(),
  capabilities: z.record(z.string(), z.boolean()).optional(),
  runtimeConfig: z.record(z.string(), z.unknown()).optional(),
  args: z.record(z.string(), z.unknown()).optional(),
  prevResult: z.record(z.string(), z.unknown()).optional(),
  'cni.dev/valid-attachments': z.array(Attachment).optional(),
  'cni.dev/attachments': z.array(Attachment).optional(),
}).refine((c) => (c.org === undefined) === (c.project === undefined), 'org and project go together')
  .refine((c) => c.org !== undefined || c.namespaces !== undefined, 'name the tenant: org and project, or a namespaces table');
export type NetConf = z.infer<typeof NetConf>;

const ContainerId = z.string().min(1).max(255).regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'a container id is alphanumeric, with _ . -');
const IfName = z.string().min(1).max(15).regex(/^[^\s/:]+$/, 'a Linux interface name').refine((n) => n !== '.' && n !== '..');

/** The environment of ADD, CHECK (every field) and DEL (the netns may be gone: optional). */
export const AttachmentEnv = z.object({
  CNI_CONTAINERID: ContainerId,
  CNI_IFNAME: IfName,
  CNI_NETNS: z.string().min(1).optional(),
  CNI_ARGS: z.string().optional(),
});
export type AttachmentEnv = z.infer<typeof AttachmentEnv>;

/** `K8S_POD_NAMESPACE=a;K8S_POD_NAME=b;IgnoreUnknown=1` as a map. */
export function cniArgs(text: string | undefined): ReadonlyMap<string, string> {
  const args = new Map<string, string>();
  for (const pair of (text ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0) args.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return args;
}

/** What ADD made, from which a result of any version is written. */
export interface Plugged {
  readonly hostIfname: string;
  readonly hostMac: string;
  readonly ifname: string;
  readonly mac: string;
  readonly mtu: number;
  readonly netns: string;
  readonly address: string;
  readonly prefixLength: number;
  readonly gateway: string;
  /** Whether the interface carries the default route: the container's primary port does, its others not (one default route per pod). */
  readonly defaultRoute: boolean;
  readonly dnsServers: readonly string[];
  readonly domainName?: string;
}

interface ResultInterface { name: string; mac?: string; mtu?: number; sandbox?: string }
interface ResultIp { address: string; gateway?: string; interface?: number; version?: string }

/**
 * The ADD result in `version`'s shape: 0.4.0 has `version` on each IP, 1.1.0 `mtu` on
 * interfaces. A `prevResult` (novanet chained after another plugin) is passed through with
 * novanet's interfaces, addresses and routes appended.
 */
export function addResult(version: CniVersion, plugged: Plugged, prevResult?: Record<string, unknown>): Record<string, unknown> {
  const previousInterfaces = Array.isArray(prevResult?.interfaces) ? prevResult.interfaces as ResultInterface[] : [];
  const interfaces: ResultInterface[] = [
    ...previousInterfaces,
    { name: plugged.hostIfname, mac: plugged.hostMac },
    { name: plugged.ifname, mac: plugged.mac, ...(version === '1.1.0' && { mtu: plugged.mtu }), sandbox: plugged.netns },
  ];
  const ip: ResultIp = {
    ...(version === '0.4.0' && { version: '4' }),
    address: `${plugged.address}/${plugged.prefixLength}`,
    gateway: plugged.gateway,
    interface: interfaces.length - 1,
  };
  const dns = plugged.dnsServers.length === 0 ? undefined : {
    nameservers: [...plugged.dnsServers],
    ...(plugged.domainName !== undefined && { domain: plugged.domainName, search: [plugged.domainName] }),
  };
  const previousDns = prevResult?.dns as Record<string, unknown> | undefined;
  return {
    cniVersion: version,
    interfaces,
    ips: [...(Array.isArray(prevResult?.ips) ? prevResult.ips as ResultIp[] : []), ip],
    routes: [...(Array.isArray(prevResult?.routes) ? prevResult.routes as unknown[] : []), ...(plugged.defaultRoute ? [{ dst: '0.0.0.0/0', gw: plugged.gateway }] : [])],
    ...(previousDns !== undefined && Object.keys(previousDns).length > 0 ? { dns: previousDns } : dns !== undefined ? { dns } : {}),
  };
}
