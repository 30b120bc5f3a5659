export interface NatsServer {
  /** nats://127.0.0.1:<port>, or tls://… when started with tls. */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export interface NatsServerOptions {
  /** Holds the log, pid and ports files and the JetStream store (<dir>/jetstream), which a restart reuses. */
  readonly dir: string;
  /** Default: a free port chosen by the server itself. */
  readonly port?: number;
  /**
   * A nats-server config file (e.g. deploy/production/nats/nats-1.conf) and flags that
   * override it; the address and port above win over the file. The server runs in
   * `dir`, so a relative store_dir in the file lands there.
   */
  readonly config?: { readonly file: string; readonly flags?: readonly string[] };
  /**
   * TLS for clients (nats-server's --tls flags, which win over a config file): the server's
   * certificate and key, the CA clients' certificates are checked against, and whether clients
   * must present one. The url is then `tls://…`.
   */
  readonly tls?: { readonly certificate: string; readonly privateKey: string; readonly caCert: string; readonly verifyClients?: boolean };
}

export interface Northbound {
  /** 'unix:<dir>/ovnnb_db.sock' */
  readonly remote: string;
  /** 'ssl:127.0.0.1:<port>' when started with ssl. */
  readonly sslRemote?: string;
  readonly dir: string;
  readonly pid: number;
  /** ovn-nbctl against this database; returns stdout without the trailing newline. */
  nbctl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export interface NorthboundOptions {
  /** <dir>/ovnnb_db.db is reused when it exists (converted if the schema is newer). */
  readonly dir: string;
  /** Also serve SSL on a free 127.0.0.1 port (`sslRemote`), with these PEM files. */
  readonly ssl?: SslFiles;
}

/** PEM files as OVS daemons and tools take them (--private-key, --certificate, --ca-cert). */
export interface SslFiles {
  readonly privateKey: string;
  readonly certificate: string;
  readonly caCert: string;
}

export interface NorthboundClusterOptions {
  /** The members' db, socket, ctl and log files: nb<N>.db, … */
  readonly dir: string;
  /** Default 3. */
  readonly members?: number;
  /** Raft between the members over SSL, and an SSL port per member for clients, with these files. */
  readonly ssl?: SslFiles;
}

export interface NorthboundMember {
  /** 0-based. */
  readonly index: number;
  /** 'unix:<dir>/nb<N>.sock' */
  readonly remote: string;
  /** 'ssl:127.0.0.1:<port>' when the cluster has ssl (a new port after each start). */
  readonly sslRemote: string | undefined;
  /** Its raft address, 'tcp:127.0.0.1:<port>' or 'ssl:…'. */
  readonly raftAddress: string;
  readonly dbFile: string;
  readonly pid: number;
  readonly running: boolean;
  /** 'leader', 'follower' or 'candidate' ('' when it does not answer). */
  role(): Promise<string>;
  /** ovs-appctl against this member (e.g. 'cluster/status', 'OVN_Northbound'); resolves to stdout. */
  appctl(...args: string[]): Promise<string>;
  /** Starts it again on its db file (it rejoins the cluster). */
  start(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface NorthboundCluster {
  readonly dir: string;
  readonly members: readonly NorthboundMember[];
  /** Every member's unix remote, comma-separated (as OVS tools and novanet take a cluster). */
  readonly remote: string;
  /** Every member's SSL remote, comma-separated, when the cluster has ssl. */
  readonly sslRemote: string | undefined;
  /** ovn-nbctl against the cluster (its leader). */
  nbctl(...args: string[]): Promise<string>;
  /** The member that is leader now (waits while there is none). */
  leader(): Promise<NorthboundMember>;
  stop(): Promise<void>;
}

/** What any process can do with a running chassis: see `connectChassis`. */
export interface RunningChassis {
  /** The chassis system-id. */
  readonly name: string;
  /** The network namespace ovs-vswitchd and ovn-controller run in: br-int and the host ends of the veths live there. */
  readonly hostNamespace: string;
  /** A namespace plugged into br-int as the VIF of logical switch port `iface`. */
  plug(opts: PlugOptions): Promise<Namespace>;
}

export interface Chassis extends RunningChassis {
  readonly dir: string;
  /** Pids of the chassis's daemons (SB ovsdb-server and ovn-northd unless it joined another, OVS ovsdb-server, ovs-vswitchd, ovn-controller). */
  readonly pids: readonly number[];
  /** ovn-sbctl against the Southbound this chassis uses (the joined chassis's, for one that joined). */
  sbctl(...args: string[]): Promise<string>;
  /** ovs-vsctl against this chassis's own Open_vSwitch db. */
  vsctl(...args: string[]): Promise<string>;
  /**
   * ovn-bridge-mappings physnet:bridge, a netdev bridge linked to the physnet's L2 segment, and
   * the segment's "outside" namespace (created by the first chassis on the SB that adds the physnet).
   */
  addProviderNetwork(opts: ProviderNetworkOptions): Promise<Namespace>;
  /**
   * A physical host on a provider bridge (one `addProviderNetwork` made): a namespace whose NIC has
   * the given MAC, on an access port of that VLAN (untagged inside the namespace, as a bare-metal
   * server's NIC on a switch port), or untagged without one.
   */
  plugHost(opts: HostPlugOptions): Promise<Namespace>;
  /**
   * Stops ovn-controller, ovs-vswitchd, the OVS db, ovn-northd and the SB db; deletes every namespace it
   * made. A chassis running the SB others joined stops last: their tunnels and provider links go with it.
   */
  stop(): Promise<void>;
}

/** A chassis with its own Southbound and ovn-northd fed by `northbound`, or one that `joins` another's. */
export type ChassisOptions = ChassisCommonOptions & ({ readonly northbound: Northbound } | { readonly joins: Chassis });

export interface ChassisCommonOptions {
  /** One chassis per dir (the OVS management sockets have fixed names); it may be the Northbound's dir. */
  readonly dir: string;
  /** Default: 'chassis-<prefix>'. Pass a stable name when the NB outlives the chassis (gateway chassis refer to it). */
  readonly name?: string;
}

export interface PlugOptions {
  /** The logical switch port name, set as external_ids:iface-id. */
  readonly iface: string;
  /** Short name; the namespace created is '<chassis prefix>-<namespace>' (see Namespace.name). */
  readonly namespace: string;
  readonly mac: string;
  /** Default eth0. */
  readonly ifname?: string;
  /**
   * Set as external_ids:iface-id-ver: a logical switch port with options:iface-id-ver binds only
   * an interface that carries the same value (ovn-nb(5)).
   */
  readonly ifaceIdVer?: string;
  /**
   * Plug another interface (`ifname`, which must be new there) into this namespace, plugged
   * through the same chassis, instead of creating one: a machine with several NICs. The
   * Namespace returned is the same network namespace seen through the new interface; its
   * `remove()` takes only that interface away.
   */
  readonly into?: Namespace;
}

export interface HostPlugOptions {
  readonly bridge: string;
  /** Short name, as in PlugOptions. */
  readonly namespace: string;
  readonly mac: string;
  /** 1-4094: the access VLAN of the host's port on the bridge. */
  readonly vlan?: number;
}

export interface ProviderNetworkOptions {
  readonly physnet: string;
  /** OVS bridge name, at most 15 characters. */
  readonly bridge: string;
  /** Required from the first chassis that adds the physnet, refused from the others: they share its outside namespace. */
  readonly outside?: {
    readonly namespace: string;
    /** CIDR notation, e.g. '172.16.0.1/24'. */
    readonly address: string;
  };
}

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Killed at timeoutMs (code is then 137). */
  readonly timedOut: boolean;
}

export interface DhcpLease {
  readonly address: string;
  readonly prefixLength: number;
  readonly router?: string;
  readonly dns?: string[];
  readonly mtu?: number;
  readonly leaseTime?: number;
  /** Classless static routes (option 121), as the client applied them. */
  readonly staticRoutes?: { destination: string; nextHop: string }[];
}

export interface Listener {
  stop(): Promise<void>;
}

export interface UdpListener extends Listener {
  /** The next datagram not yet returned, in arrival order; rejects with SandboxTimeoutError. */
  next(opts?: { timeoutMs?: number }): Promise<UdpDatagram>;
}

export interface UdpDatagram {
  readonly data: string;
  /** Source address as the listener saw it. */
  readonly from: string;
  readonly port: number;
}

export interface ConnectResult {
  readonly ok: boolean;
  /** The listener's answer: '<namespace name> <source address it saw>'. */
  readonly reply?: string;
  /** Why not ok: ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ... */
  readonly error?: string;
}

export interface Namespace {
  /** The real network namespace name, usable with `ip netns exec`. */
  readonly name: string;
  /** The interface inside the namespace (eth0 unless asked otherwise). */
  readonly ifname: string;
  /**
   * `ip netns exec <name> …`; never throws on a non-zero exit, but throws SandboxToolMissingError
   * when the program (or the busybox applet) is not installed. Default timeout 30 s. Every probe
   * below runs through it.
   */
  exec(argv: string[], opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** busybox udhcpc; the lease is applied (address, MTU, default route) and reported. Default timeout 10 s. */
  dhcp(opts?: { timeoutMs?: number }): Promise<DhcpLease>;
  /**
   * busybox ping: true once `count` echo replies came back (default 1), retrying until timeoutMs
   * (default 5 s). `source` sends from that address (it must be one of the namespace's).
   */
  ping(address: string, opts?: { count?: number; timeoutMs?: number; source?: string }): Promise<boolean>;
  /** Answers every connection with '<name> <peer address>' and closes it. */
  tcpListen(port: number): Promise<Listener>;
  /** Connects, reads the answer to its end. Default timeout 5 s. */
  tcpConnect(address: string, port: number, opts?: { timeoutMs?: number }): Promise<ConnectResult>;
  /** Records each datagram (see next) and answers its sender with '<name> <peer address>'. */
  udpListen(port: number): Promise<UdpListener>;
  /** Sends data every 500 ms until an answer arrives or timeoutMs (default 5 s) passes. */
  udpSend(address: string, port: number, data: string, opts?: { timeoutMs?: number }): Promise<ConnectResult>;
  /** Stops its listeners, unplugs it and deletes the namespace (and with it the veth pair). */
  remove(): Promise<void>;
}
