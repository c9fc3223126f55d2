// A cutting proxy for the fault-injection test (e2e/fault.mjs): a TCP proxy on 127.0.0.1 that forwards the bytes
// of a WebSocket (the HTTP upgrade included) between the browser and an XMPP server, and on command breaks them
// the two ways a network does:
//
//   cut()            an abrupt close: both sockets reset at once, no WebSocket close frame, no XMPP </close>
//                    (Wi-Fi gone, a NAT or load balancer dropping the flow)
//   blackhole(ms, then)
//                    nothing flows in either direction for `ms`, and nothing is closed (a dead link, a sleeping
//                    laptop's socket): both sockets stop being read, so bytes wait in the kernel's buffers
//                    (TCP keeps them, as it would retransmit them). Then `then` decides: 'resume' forwards what
//                    waited, in order (the stall was short; the stream must survive it); 'close' resets both
//                    sockets (the stall outlived the flow). Either way only the client's own deadlines (XEP-0198
//                    acknowledgements, pings) can tell it that a stalled stream is dead before that.
//
// It only acts on the connections open at that moment; a reconnect opens a fresh one, which flows. It is
// "WebSocket-aware" only so far as to know when a connection's upgrade succeeded (`ws101`), so a cut can be
// aimed at the XMPP exchange right after it (login, resumption) instead of the HTTP handshake.
//
//   const proxy = await CuttingProxy.start('ws://127.0.0.1:5280/xmpp-websocket');
//   proxy.url                      ws://127.0.0.1:PORT/xmpp-websocket — give this to the browser
//   proxy.on('upgraded', conn)     a WebSocket upgrade went through this proxy
//   proxy.cut(); await proxy.blackhole(3000, 'resume'); await proxy.close();

import net from 'node:net';
import { EventEmitter } from 'node:events';

export class CuttingProxy extends EventEmitter {
  /** Starts a proxy in front of the WebSocket URL `target` (ws://host:port/path); resolves once listening. */
  static async start(target) {
    const proxy = new CuttingProxy(new URL(target));
    await new Promise((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', resolve);
    });
    return proxy;
  }

  constructor(target) {
    super();
    this.target = target;
    /** Live connections: { client, server, upgraded: bool, held: bool }. */
    this.conns = new Set();
    this.accepted = 0;
    this.server = net.createServer((client) => this.accept(client));
  }

  /** The WebSocket URL that reaches `target` through this proxy. */
  get url() {
    const { port } = this.server.address();
    return `ws://127.0.0.1:${port}${this.target.pathname}${this.target.search}`;
  }

  accept(client) {
    this.accepted++;
    client.setNoDelay(true);
    const server = net.connect(Number(this.target.port), this.target.hostname);
    server.setNoDelay(true);
    const conn = { client, server, upgraded: false, held: false };
    this.conns.add(conn);
    const end = () => {
      if (!this.conns.delete(conn)) return;
      client.destroy();
      server.destroy();
      this.emit('closed', conn);
    };
    client.on('data', (d) => server.write(d));
    server.on('data', (d) => {
      if (!conn.upgraded && d.subarray(0, 12).toString('latin1') === 'HTTP/1.1 101') {
        conn.upgraded = true;
        // After this chunk is on its way to the browser.
        setImmediate(() => this.emit('upgraded', conn));
      }
      client.write(d);
    });
    // A close from either side (the browser's socket, the server's) closes the other too, as a TCP proxy would.
    for (const s of [client, server]) {
      s.on('end', end);
      s.on('close', end);
      s.on('error', end);
    }
  }

  /** How many connections are open now. */
  get open() {
    return this.conns.size;
  }

  /** Resets every open connection at once (both sides); returns how many there were. */
  cut() {
    const n = this.conns.size;
    for (const conn of [...this.conns]) reset(conn);
    return n;
  }

  /**
   * Stops every open connection for `ms` (nothing read, nothing written, nothing closed), then resumes them
   * (`then` = 'resume') or resets them ('close'). Resolves when that is done, with how many were held.
   */
  async blackhole(ms, then) {
    const held = [...this.conns];
    for (const conn of held) {
      conn.held = true;
      conn.client.pause();
      conn.server.pause();
    }
    await new Promise((r) => setTimeout(r, ms));
    for (const conn of held) {
      conn.held = false;
      if (then === 'close') reset(conn);
      else if (this.conns.has(conn)) {
        conn.client.resume();
        conn.server.resume();
      }
    }
    return held.length;
  }

  /** Stops listening and resets what is still open. */
  async close() {
    for (const conn of [...this.conns]) reset(conn);
    await new Promise((r) => this.server.close(r));
  }
}

/** Both sockets of a connection closed at once, with a TCP reset where Node can send one. */
function reset(conn) {
  for (const s of [conn.client, conn.server]) {
    if (typeof s.resetAndDestroy === 'function' && !s.destroyed) s.resetAndDestroy();
    else s.destroy();
  }
}
