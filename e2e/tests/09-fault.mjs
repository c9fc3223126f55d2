// Issue 12's promise under fire: while Alice (this page) and Bob (the scripted peer) exchange 300 messages each
// way, a cutting proxy between the page and the server breaks the WebSocket 109 times and the server restarts once (77 abrupt closes, 10 more
// that close again during the reconnect's login, 12 blackholes of 2–8 s that then resume or reset, the longer
// ones found dead by the app's own 5 s deadline first): every message arrives
// exactly once and in order both ways, and every one of Alice's ends delivered, then read (e2e/fault.mjs has the
// scenario, e2e/proxy.mjs the proxy). Against each server whose environment is set: Prosody 0.12 and ejabberd
// 23.01 always, Prosody 13 and ejabberd 24.12 with NATTER_FAULT_MODERN=1. Each runs once (not at both paths).
//
//   NATTER_FAULT_CUTS=1000 node e2e/run.mjs fault      a longer soak (3,000 messages each way, ~35 min per server)
//   NATTER_FAULT_SEED=7 …                             another schedule of pauses and blackhole lengths
//
// The middle cycle restarts the server instead (its script's `reboot`, data kept): the stream state is lost, and
// what was in flight to Alice comes back through the archive's catch-up (e2e/fault.mjs says how).
import { test } from '../harness.mjs';
import { runFaults, summary } from '../fault.mjs';

const cycles = Number(process.env.NATTER_FAULT_CUTS || 100);
const blackholeMax = Number(process.env.NATTER_FAULT_BLACKHOLE_MAX || 8000);
const seed = Number(process.env.NATTER_FAULT_SEED || 12);
const servers = [
  ['Prosody 0.12', 'NATTER_PROSODY', true, 'prosody.sh'],
  ['ejabberd 23.01', 'NATTER_EJABBERD', true, 'ejabberd.sh'],
  ['Prosody 13', 'NATTER_PROSODY13', process.env.NATTER_FAULT_MODERN === '1', 'prosody13.sh'],
  ['ejabberd 24.12', 'NATTER_EJABBERD24', process.env.NATTER_FAULT_MODERN === '1', 'ejabberd24.sh'],
];

for (const [name, prefix, wanted, script] of servers) {
  const ws = process.env[`${prefix}_WS`];
  if (!wanted || !ws) continue;
  const domain = process.env[`${prefix}_HASHED_DOMAIN`] || 'hashed.localhost';
  test(
    `fault: ${name}, ${cycles} cycles of cuts while 300 messages go each way`.replace('300', String(3 * cycles)),
    async (ctx) => {
      const result = await runFaults(ctx, { name, ws, domain, script }, { cycles, blackholeMax, seed });
      console.log(`     · ${summary(name, result)}`);
    },
    { once: true, timeout: 60_000 + cycles * 8_000 },
  );
}
