import { spawn } from 'node:child_process';
import { sameScope } from '../../events/mod.js';
import type { Scope } from '../../events/mod.js';
import { intToIp, subnetPortIds } from '../../projections/mod.js';
import type { View } from '../../projections/mod.js';
import { attachmentBinding } from '../reconcile/desired.js';
import { eventLog, replay } from './audit.js';
import { CliError, ExitCode } from './cli.js';
import type { CliCommand } from './cli.js';

/** `novanet topology`: a tenant's network as a Graphviz graph, from a fold of the log. */
export const topologyCommand: CliCommand = (program, cli) => {
  program.command('topology')
    .description('a tenant\'s VPCs (routers), subnets (switches), ports, load balancers, NAT gateways and external IPs as a graph: -o dot (the default) or -o svg (Graphviz dot)')
    .action(cli.action(async () => {
      const format = cli.output(['dot', 'svg'], 'dot');
      const scope = cli.scope();
      return cli.withNats(async (nc, config) => {
        const dot = topologyDot(await replay(await eventLog(nc, config), 'end'), scope);
        process.stdout.write(format === 'svg' ? await render(dot) : dot);
        return ExitCode.ok;
      });
    }));
};

/** DOT text for one tenant: a cluster per VPC (its router) holding a cluster per subnet (its switch) with its ports. */
export function topologyDot(view: View, scope: Scope): string {
  const lines: string[] = [];
  const node = (id: string, label: string[], attrs: string) => lines.push(`    ${q(id)} [label=${q(label.join('\n'))}, ${attrs}];`);
  const edge = (from: string, to: string, label?: string) => lines.push(`  ${q(from)} -> ${q(to)}${label ? ` [label=${q(label)}]` : ''};`);
  const short = (id: string) => id.slice(0, 8);
  const mine = <T extends { scope: Scope }>(map: ReadonlyMap<string, T>) => [...map.values()].filter((r) => sameScope(r.scope, scope));
  for (const vpc of mine(view.vpcs)) {
    lines.push(`  subgraph ${q(`cluster_vpc_${vpc.id}`)} {`, `    label=${q(`VPC ${vpc.name} ${vpc.cidr}`)}; style=rounded;`);
    node(`vpc/${vpc.id}`, [`router ${vpc.name}`, vpc.id, ...vpc.routes.map((r) => `${r.destination} via ${r.nextHop}`)], 'shape=box3d');
    for (const subnetId of vpc.subnetIds) {
      const subnet = view.subnets.get(subnetId);
      if (!subnet) continue;
      lines.push(`  subgraph ${q(`cluster_subnet_${subnet.id}`)} {`, `    label=${q(`subnet ${subnet.name} ${subnet.cidr}`)}; style=dashed;`);
      node(`subnet/${subnet.id}`, [`switch ${subnet.name}`, subnet.id, subnet.cidr], 'shape=ellipse');
      for (const portId of subnetPortIds(view, subnet)) {
        const port = view.ports.get(portId);
        if (port) node(`port/${port.id}`, [`port ${port.name ?? short(port.id)}`, port.id, intToIp(port.ip), port.macAddress, ...(port.deviceId ? [`device ${port.deviceId}`] : [])], 'shape=box');
      }
      for (const lb of mine(view.loadBalancers).filter((l) => l.subnetId === subnet.id)) {
        node(`loadbalancer/${lb.id}`, [`load balancer ${lb.name}`, lb.id, `${lb.protocol} ${lb.vipAddress}:${lb.listeners.map((l) => l.port).join(',')}`], 'shape=invtrapezium');
      }
      lines.push('  }');
    }
    lines.push('  }');
    for (const subnetId of vpc.subnetIds) {
      const subnet = view.subnets.get(subnetId);
      if (!subnet) continue;
      edge(`vpc/${vpc.id}`, `subnet/${subnet.id}`, subnet.gatewayIp);
      for (const portId of subnetPortIds(view, subnet)) edge(`subnet/${subnet.id}`, `port/${portId}`);
    }
  }
  for (const lb of mine(view.loadBalancers)) for (const member of lb.memberPortIds) edge(`loadbalancer/${lb.id}`, `port/${member}`, 'member');
  for (const ip of mine(view.externalIps)) node(`externalip/${ip.id}`, [`external IP ${ip.address}`, ip.id], 'shape=note');
  for (const gateway of mine(view.natGateways)) {
    const ip = view.externalIps.get(gateway.externalIpId);
    node(`natgateway/${gateway.id}`, ['NAT gateway', gateway.id, ip?.address ?? ''], 'shape=hexagon');
    edge(`vpc/${gateway.vpcId}`, `natgateway/${gateway.id}`, 'SNAT');
    edge(`natgateway/${gateway.id}`, `externalip/${gateway.externalIpId}`);
  }
  for (const attachment of mine(view.attachments)) {
    // What the reconciler binds: a port (a device's primary) or a load balancer (a cluster endpoint's).
    const binding = attachmentBinding(view, attachment);
    if ('port' in binding) edge(`externalip/${attachment.externalIpId}`, `port/${binding.port.id}`, '1:1 NAT');
    if ('loadBalancer' in binding) edge(`externalip/${attachment.externalIpId}`, `loadbalancer/${binding.loadBalancer.id}`, 'listeners');
  }
  for (const forward of mine(view.portForwards)) edge(`externalip/${forward.externalIpId}`, `port/${forward.portId}`, `${forward.protocol} ${forward.externalPort}→${forward.internalPort}`);
  return `digraph ${q(`novanet ${scope.org}/${scope.project}`)} {\n  rankdir=LR;\n  node [fontname="Helvetica", fontsize=10];\n  edge [fontname="Helvetica", fontsize=9];\n${lines.join('\n')}\n}\n`;
}

/** A DOT string literal. */
const q = (text: string): string => `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;

/** SVG from Graphviz's `dot` (Debian package graphviz, installed by deploy/install.sh). */
function render(dot: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('dot', ['-Tsvg'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', (e) => reject(new CliError('GRAPHVIZ_MISSING', `dot could not run (${e.message}): install Graphviz (deploy/install.sh)`)));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new CliError('GRAPHVIZ_FAILED', `dot -Tsvg exited ${code}: ${err.trim()}`))));
    child.stdin.end(dot);
  });
}
