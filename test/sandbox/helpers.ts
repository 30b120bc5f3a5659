import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import type { Chassis, Northbound } from '../../src/sandbox/mod.js';

/** A fresh temp dir, removed after the test (teardowns run last-registered first, so after the stops). */
export async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nv-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Alive and not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Pids of live processes whose command line mentions text (a sandbox dir, a namespace prefix). */
export function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text) && isAlive(pid)) found.push(pid);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

export function netnsNames(): string[] {
  // stderr: `ip` complains about namespaces that other processes are deleting meanwhile.
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name !== '');
}

/** Interface names in the namespace this process runs in. */
export function rootLinks(): string[] {
  return execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .split('\n')
    .map((line) => line.split(': ')[1]?.split('@')[0] ?? '')
    .filter((name) => name !== '');
}

/** The chassis's namespace prefix ('<prefix>-host'). */
export function prefixOf(chassis: Chassis): string {
  return chassis.hostNamespace.replace(/-host$/, '');
}

/** What a sandbox run can leave behind: namespaces, interfaces in our own namespace, processes. */
export function leftovers(prefix: string, dir: string): { namespaces: string[]; links: string[]; processes: number[] } {
  return {
    namespaces: netnsNames().filter((name) => name.startsWith(`${prefix}-`)),
    links: rootLinks().filter((name) => name.startsWith(prefix)),
    processes: [...new Set([...processesMentioning(prefix), ...processesMentioning(dir)])],
  };
}

export const nothingLeft = { namespaces: [], links: [], processes: [] } as const;

/** The positive control of a nothingLeft check: while the chassis runs, leftovers() finds its namespaces and processes. */
export function tracesFound(prefix: string, dir: string): boolean {
  const found = leftovers(prefix, dir);
  return found.namespaces.length > 0 && found.processes.length > 0;
}

export const Net = {
  cidr: '10.9.0.0/24',
  gateway: '10.9.0.1',
  gatewayMac: '02:00:0a:09:00:01',
  vm1: { lsp: 'lsp-vm1', mac: '02:00:0a:09:00:0b', ip: '10.9.0.11' },
  vm2: { lsp: 'lsp-vm2', mac: '02:00:0a:09:00:0c', ip: '10.9.0.12' },
} as const;

/**
 * Logical switch 10.9.0.0/24 with OVN native DHCP, two VIF ports and a router port at
 * 10.9.0.1, written with plain ovn-nbctl (independent of novanet's engine).
 */
export async function createDhcpNetwork(nb: Northbound): Promise<void> {
  await nb.nbctl('ls-add', 'sw0', '--', 'lr-add', 'lr0', '--',
    'lrp-add', 'lr0', 'lrp0', Net.gatewayMac, `${Net.gateway}/24`, '--',
    'lsp-add', 'sw0', 'sw0-lr0', '--', 'lsp-set-type', 'sw0-lr0', 'router', '--',
    'lsp-set-addresses', 'sw0-lr0', 'router', '--', 'lsp-set-options', 'sw0-lr0', 'router-port=lrp0');
  const dhcp = await nb.nbctl('create', 'DHCP_Options', `cidr="${Net.cidr}"`);
  await nb.nbctl('dhcp-options-set-options', dhcp, `server_id=${Net.gateway}`, `server_mac=${Net.gatewayMac}`,
    'lease_time=3600', `router=${Net.gateway}`, 'mtu=1400', 'dns_server={10.9.0.53, 10.9.0.54}');
  for (const vm of [Net.vm1, Net.vm2]) {
    await nb.nbctl('lsp-add', 'sw0', vm.lsp, '--', 'lsp-set-addresses', vm.lsp, `${vm.mac} ${vm.ip}`, '--',
      'lsp-set-port-security', vm.lsp, `${vm.mac} ${vm.ip}`, '--', 'lsp-set-dhcpv4-options', vm.lsp, dhcp);
  }
}

/** Bound on the chassis and flows installed (northd sets up=true once ovn-controller reports the binding). */
export async function waitUp(nb: Northbound, lsp: string): Promise<void> {
  await nb.nbctl('--timeout=20', 'wait-until', 'Logical_Switch_Port', lsp, 'up=true');
}

/** The name of the chassis a Port_Binding matching `where` is bound on ('' while unbound), read from the SB. */
export async function boundOn(sb: Chassis, where: string): Promise<string> {
  const uuid = await sb.sbctl('--bare', '--columns=chassis', 'find', 'Port_Binding', where);
  return uuid === '' ? '' : sb.sbctl('--bare', '--columns=name', 'list', 'Chassis', uuid);
}
