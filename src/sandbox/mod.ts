// Public surface of the sandbox: real nats-server and OVN processes, and network namespaces
// plugged into OVN, for tests and for `npm start`. Knows nothing of novanet's domain.
export { connectChassis, startChassis } from './chassis.js';
export {
  SandboxArgumentError,
  SandboxCommandError,
  SandboxError,
  SandboxStartError,
  SandboxTimeoutError,
  SandboxToolMissingError,
  isSandboxCommandError,
  isSandboxError,
  isSandboxStartError,
  isSandboxTimeoutError,
  isSandboxToolMissingError,
} from './errors.js';
export { createNamespace } from './netns.js';
export { startNatsServer } from './nats.js';
export { makeTestCa } from './pki.js';
export type { TestCa } from './pki.js';
export { startNorthbound, startNorthboundCluster } from './northbound.js';
export type {
  Chassis,
  ChassisCommonOptions,
  ChassisOptions,
  ConnectResult,
  DhcpLease,
  ExecResult,
  Listener,
  Namespace,
  NatsServer,
  NatsServerOptions,
  Northbound,
  NorthboundCluster,
  NorthboundClusterOptions,
  NorthboundMember,
  NorthboundOptions,
  PlugOptions,
  ProviderNetworkOptions,
  HostPlugOptions,
  RunningChassis,
  SslFiles,
  UdpDatagram,
  UdpListener,
} from './types.js';
