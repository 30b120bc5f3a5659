// Programs run inside a namespace with `ip netns exec <ns> node -e <source> <args…>` (node
// cannot enter a network namespace itself). Each reports on stdout: listeners print
// 'listening' once bound, clients print one JSON ConnectResult.

/** argv: port, name. Answers each connection with '<name> <peer address>'. */
export const tcpServer = `
const [port, name] = process.argv.slice(1);
require('node:net')
  .createServer((s) => { s.on('error', () => {}); s.end(name + ' ' + s.remoteAddress + '\\n'); })
  .listen(Number(port), '0.0.0.0', () => process.stdout.write('listening\\n'));
`;

/** argv: host, port, timeoutMs. */
export const tcpClient = `
const [host, port, ms] = process.argv.slice(1);
const done = (r) => { process.stdout.write(JSON.stringify(r)); process.exit(0); };
const s = require('node:net').connect(Number(port), host);
let reply = '';
s.setEncoding('utf8');
s.setTimeout(Number(ms), () => done({ ok: false, error: 'ETIMEDOUT' }));
s.on('data', (c) => { reply += c; });
s.on('end', () => done({ ok: true, reply: reply.trim() }));
s.on('error', (e) => done({ ok: false, error: e.code || e.message }));
`;

/** argv: port, name. Prints each datagram as a JSON line and answers '<name> <peer address>'. */
export const udpServer = `
const [port, name] = process.argv.slice(1);
const d = require('node:dgram').createSocket('udp4');
d.on('message', (m, r) => {
  process.stdout.write(JSON.stringify({ data: m.toString(), from: r.address, port: r.port }) + '\\n');
  d.send(name + ' ' + r.address, r.port, r.address);
});
d.bind(Number(port), '0.0.0.0', () => process.stdout.write('listening\\n'));
`;

/** argv: host, port, data, timeoutMs. Connected socket, so an ICMP port unreachable shows as ECONNREFUSED. */
export const udpClient = `
const [host, port, data, ms] = process.argv.slice(1);
const done = (r) => { process.stdout.write(JSON.stringify(r)); process.exit(0); };
const d = require('node:dgram').createSocket('udp4');
d.on('message', (m) => done({ ok: true, reply: m.toString() }));
d.on('error', (e) => done({ ok: false, error: e.code || e.message }));
d.connect(Number(port), host, () => {
  const send = () => d.send(data);
  send();
  setInterval(send, 500);
});
setTimeout(() => done({ ok: false, error: 'ETIMEDOUT' }), Number(ms));
`;

/**
 * udhcpc script (busybox runs it with the lease in the environment): applies the lease the way
 * a real client does, and prints it as 'lease.<key>=<value>' lines for dhcp() to parse.
 */
export const udhcpcScript = `#!/bin/sh
case "$1" in
deconfig)
  ip addr flush dev "$interface"
  ip link set dev "$interface" up
  ;;
bound|renew)
  ip addr flush dev "$interface"
  ip addr add "$ip/$mask" dev "$interface"
  [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
  [ -n "$router" ] && ip route replace default via "\${router%% *}" dev "$interface"
  echo "lease.staticroutes=$staticroutes"
  if [ -n "$staticroutes" ]; then
    set -- $staticroutes
    while [ $# -ge 2 ]; do ip route replace "$1" via "$2" dev "$interface"; shift 2; done
  fi
  echo "lease.ip=$ip"
  echo "lease.mask=$mask"
  echo "lease.router=\${router%% *}"
  echo "lease.dns=$dns"
  echo "lease.mtu=$mtu"
  echo "lease.lease=$lease"
  ;;
esac
exit 0
`;
