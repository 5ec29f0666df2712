#!/usr/bin/env node
// svs-peer.mjs: a command-line NDNts SVS v3 group member, used by ndnsvs-node's
// interop tests (see peer.go and docs/interop.md).
//
// It connects to an NDN forwarder's unix socket (NFD protocol), joins a sync
// group with NDNts @ndn/svs SvSync { svs3: true, suppressionPeriod: 200 },
// publishes, and reports what it sees as one JSON object per line on stdout:
//
//   {"event":"registered","prefix":"/ndn/svs"}        rib/register succeeded
//   {"event":"ready","node":...,"boot":...,"group":...,"syncPrefix":...,"announce":[...]}
//   {"event":"publish","seq":n}
//   {"event":"update","node":"/x","boot":b,"lo":l,"hi":h}   every SvSync "update"
//   {"event":"reject","reason":"...","interest":"...","dataName":"..."}
//                                                     every refused Sync Interest
//   {"event":"done","state":{...}}                    expectations met, publishing over
//   {"event":"timeout","missing":{...},"state":{...}} then exit 1
//   {"event":"error","message":"..."}                 then exit 1 (2 for bad arguments)
//   {"event":"face","state":"DOWN"|"UP"|"CLOSED"}     uplink state changes
//   {"event":"debug",...}                             NDNts debug events, with --debug
//   {"event":"exit","code":n}                         last line
//
// "state" maps each node name to its entries, [{"boot":b,"seq":s}, ...], in
// ascending boot order. Names are printed in NDN URI form with typed
// components (v=3, seq=1, t=...), as ndnd prints them.
//
// Exit status: 0 when every --expect is met and publishing is over (after
// --linger), 1 on timeout or error, 2 on bad arguments.

import { parseArgs } from "node:util";

const usage = `usage: node svs-peer.mjs --socket PATH --group NAME --node NAME [options]
  --socket PATH       forwarder unix socket (NFD protocol)
  --group NAME        sync group prefix, e.g. /ndn/svs
  --node NAME         this member's node name, e.g. /ndnts/a
  --boot SECONDS      bootstrap time of --node (default: now)
  --publish N         publications to make (default 0)
  --interval MS       between publications (default 100)
  --start-delay MS    after ready, before the first publication (default 0)
  --expect LIST       /node/x=N,/node/y=M: wait until each node's seq >= N
  --timeout MS        give up after MS from start, exit 1 (default 30000; 0 = never)
  --periodic MS       SvSync periodicTimeout (default NDNts's 30000, +-10%)
  --linger MS         keep syncing after done before exiting, so that members
                      still behind can catch up (default 1000; with 0 the last
                      Sync Interest may not have left when the process exits)
  --register MODE     what to register with the forwarder: "group" (NDNts's own
                      behaviour: /<group>), "sync" (/<group>/v=3, per the spec since
                      2026-07-17) or "both" (default "group")
  --child-inherit     register with the ChildInherit flag (NDNts default: off)
  --debug             print NDNts SvSync debug events`;

const line = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

let exiting = false;
function exit(code) {
  if (exiting) {
    return;
  }
  exiting = true;
  line({ event: "exit", code });
  // stdout to a pipe is synchronous on Linux; the callback covers other cases.
  process.stdout.write("", () => process.exit(code));
}

function fail(message, code = 1) {
  line({ event: "error", message });
  exit(code);
}

process.on("uncaughtException", (err) => fail(`uncaught: ${err?.stack ?? err}`));
process.on("unhandledRejection", (err) => fail(`unhandled rejection: ${err?.stack ?? err}`));

// ---- arguments ----

class UsageError extends Error {}
const badArgs = (message) => {
  throw new UsageError(message);
};

try {
  await main();
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`${usage}\n`);
    fail(`bad arguments: ${err.message}`, 2);
  } else {
    fail(err?.stack ?? String(err));
  }
}

async function main() {
  let args;
  try {
    ({ values: args } = parseArgs({
      strict: true,
      allowPositionals: false,
      options: {
        socket: { type: "string" },
        group: { type: "string" },
        node: { type: "string" },
        boot: { type: "string" },
        publish: { type: "string", default: "0" },
        interval: { type: "string", default: "100" },
        "start-delay": { type: "string", default: "0" },
        expect: { type: "string", default: "" },
        timeout: { type: "string", default: "30000" },
        periodic: { type: "string" },
        linger: { type: "string", default: "1000" },
        register: { type: "string", default: "group" },
        "child-inherit": { type: "boolean", default: false },
        debug: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (err) {
    badArgs(err.message);
  }
  if (args.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  for (const key of ["socket", "group", "node"]) {
    if (!args[key]) {
      badArgs(`--${key} is required`);
    }
  }
  const nonNegInt = (key, { positive = false } = {}) => {
    const s = args[key];
    if (!/^\d+$/.test(s ?? "")) {
      badArgs(`--${key} ${JSON.stringify(s)} is not a non-negative integer`);
    }
    const n = Number.parseInt(s, 10);
    if (!Number.isSafeInteger(n) || (positive && n === 0)) {
      badArgs(`--${key} ${s} is out of range`);
    }
    return n;
  };
  const publish = nonNegInt("publish");
  const interval = nonNegInt("interval");
  const startDelay = nonNegInt("start-delay");
  const timeout = nonNegInt("timeout");
  const linger = nonNegInt("linger");
  const periodic = args.periodic === undefined ? undefined : nonNegInt("periodic", { positive: true });
  const boot = args.boot === undefined ? undefined : nonNegInt("boot");
  if (!["group", "sync", "both"].includes(args.register)) {
    badArgs(`--register ${JSON.stringify(args.register)}: want group, sync or both`);
  }

  // Imported here rather than at the top so that a missing node_modules
  // gives one clear error line.
  let modules;
  try {
    modules = await Promise.all([
      import("@ndn/fw"),
      import("@ndn/packet"),
      import("@ndn/naming-convention2"),
      import("@ndn/node-transport"),
      import("@ndn/nfdmgmt"),
      import("@ndn/svs"),
      import("@ndn/tlv"),
    ]);
  } catch (err) {
    throw new Error(`cannot load NDNts (run: npm ci --prefix internal/interop/ndnts): ${err.message}`);
  }
  const [{ Forwarder }, { Data }, { AltUri }, { UnixTransport }, { NfdPrefixReg }, { SvSync }, { Decoder }] = modules;

  const uri = (name) => AltUri.ofName(name);
  const parseName = (s, what) => {
    let n;
    try {
      n = AltUri.parseName(s);
    } catch (err) {
      badArgs(`${what} ${JSON.stringify(s)}: ${err.message}`);
    }
    if (n.length === 0) {
      badArgs(`${what} ${JSON.stringify(s)}: empty name`);
    }
    return n;
  };

  const groupPrefix = parseName(args.group, "--group");
  const nodeName = parseName(args.node, "--node");
  // --expect /a/b=3,/c=4. A name can itself contain "=" (typed components),
  // so the count is what follows the last "=".
  const expect = new Map();
  for (const item of args.expect.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^(.+)=(\d+)$/.exec(item);
    if (!m) {
      badArgs(`--expect item ${JSON.stringify(item)}: want /node/name=N`);
    }
    expect.set(uri(parseName(m[1], "--expect node")), Number.parseInt(m[2], 10));
  }

  // ---- timeout ----

  let sync;
  const stateJSON = () => {
    const state = {};
    if (!sync) {
      return state;
    }
    for (const [id, seq] of sync.currentStateVector) {
      (state[uri(id.name)] ??= []).push({ boot: id.boot, seq });
    }
    for (const entries of Object.values(state)) {
      entries.sort((a, b) => a.boot - b.boot);
    }
    return state;
  };
  const highest = (state, name) => Math.max(0, ...(state[name] ?? []).map((e) => e.seq));
  const missing = () => {
    const state = stateJSON();
    const m = {};
    for (const [name, want] of expect) {
      const have = highest(state, name);
      if (have < want) {
        m[name] = { want, have };
      }
    }
    return m;
  };

  let timeoutTimer;
  if (timeout > 0) {
    timeoutTimer = setTimeout(() => {
      line({ event: "timeout", afterMs: timeout, missing: missing(), state: stateJSON() });
      exit(1);
    }, timeout);
  }

  // ---- uplink to the forwarder ----

  const fw = Forwarder.getDefault();
  let uplink;
  try {
    uplink = await UnixTransport.createFace({
      fw,
      addRoutes: ["/"],
      callback: (transport, l3face) => {
        l3face.addEventListener("state", ({ state }) => {
          const name = ["UP", "DOWN", "CLOSED"][state] ?? String(state);
          line({ event: "face", state: name });
          if (name === "CLOSED") {
            fail("uplink face closed");
          }
        });
      },
    }, args.socket);
  } catch (err) {
    fail(`cannot connect to ${args.socket}: ${err.message}`);
    return;
  }

  // ---- SvSync ----

  const syncOpts = {
    syncPrefix: groupPrefix,
    fw,
    svs3: true,
    // NDNts's code default is 2200 ms; the spec (and ndnd) say 200 ms.
    suppressionPeriod: 200,
  };
  if (periodic !== undefined) {
    syncOpts.periodicTimeout = periodic;
  }
  sync = await SvSync.create(syncOpts);
  const syncInterestName = sync.syncInterestName; // /<group>/v=3

  sync.addEventListener("update", (update) => {
    const { id, loSeqNum, hiSeqNum } = update;
    line({ event: "update", node: uri(id.name), boot: id.boot, lo: loSeqNum, hi: hiSeqNum });
    checkDone();
  });

  // NDNts 0.0.20250307 refuses an incoming Sync Interest in two places:
  // - SvSync.handleRxPacket catches any error from parseSyncInterest (no
  //   ApplicationParameters, a first TLV that is neither StateVector nor Data,
  //   an inner Data name other than /<group>/v=3 — "Invariant failed" from
  //   tiny-invariant — a verifier failure, a malformed StateVector) and
  //   dispatches it as an "rxerror" event with detail [interest, error];
  // - a vector whose largest bootstrap time is more than 86400 s ahead is
  //   dropped silently apart from a "debug" event with action "rx-future".
  sync.addEventListener("rxerror", ({ detail: [interest, err] }) => {
    const ev = { event: "reject", reason: err?.message ?? String(err), interest: uri(interest.name) };
    const dataName = innerDataName(interest);
    if (dataName !== undefined) {
      ev.dataName = dataName;
    }
    line(ev);
  });
  sync.addEventListener("debug", ({ detail }) => {
    if (detail.action === "rx-future") {
      line({
        event: "reject",
        reason: "bootstrap time more than 86400 s in the future (rx-future)",
        recv: detail.recv,
      });
    }
    if (args.debug) {
      line({ event: "debug", ...detail });
    }
  });

  function innerDataName(interest) {
    try {
      const { type, decoder } = new Decoder(interest.appParameters).read();
      if (type === 0x06) {
        return uri(decoder.decode(Data).name);
      }
    } catch {}
    return undefined;
  }

  // ---- prefix registration ----

  // SvSync routes /<group>/v=3 to itself inside NDNts's forwarder and
  // announces /<group>. An announcement reaches the real forwarder through a
  // ReadvertiseDestination; NfdPrefixReg turns it into rib/register on
  // /localhost/nfd, as NDNts applications do (enableNfdPrefixReg). The
  // subclass only reports each success so that "ready" means "routed".
  const announce = {
    group: [groupPrefix],
    sync: [syncInterestName],
    both: [groupPrefix, syncInterestName],
  }[args.register];
  if (args.register !== "group") {
    sync.face.removeAnnouncement(groupPrefix);
    for (const name of announce) {
      sync.face.addAnnouncement(name);
    }
  }

  const pending = new Set(announce.map(uri));
  let readyResolve;
  const registered = new Promise((resolve) => {
    readyResolve = resolve;
  });
  class ReportingPrefixReg extends NfdPrefixReg {
    async doAdvertise(name, state) {
      try {
        await super.doAdvertise(name, state);
      } catch (err) {
        line({ event: "register-error", prefix: uri(name), message: err?.message ?? String(err) });
        throw err; // NfdPrefixReg retries
      }
      line({ event: "registered", prefix: uri(name) });
      pending.delete(uri(name));
      if (pending.size === 0) {
        readyResolve();
      }
    }
  }
  const reg = new ReportingPrefixReg(uplink, {
    flagChildInherit: args["child-inherit"],
  });
  reg.enable(fw);
  await registered;

  const node = boot === undefined ? sync.add(nodeName) : sync.add(nodeName, boot);
  line({
    event: "ready",
    node: uri(nodeName),
    boot: node.id.boot,
    group: uri(groupPrefix),
    syncPrefix: uri(syncInterestName),
    announce: announce.map(uri),
  });

  // ---- publishing and completion ----

  let published = publish === 0;
  let done = false;
  function checkDone() {
    if (done || !published || exiting || Object.keys(missing()).length > 0) {
      return;
    }
    done = true;
    clearTimeout(timeoutTimer);
    line({ event: "done", state: stateJSON() });
    setTimeout(() => {
      sync.close();
      exit(0);
    }, linger);
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  if (publish > 0) {
    await sleep(startDelay);
    for (let i = 0; i < publish && !exiting; ++i) {
      if (i > 0) {
        await sleep(interval);
      }
      node.seqNum = node.seqNum + 1;
      line({ event: "publish", seq: node.seqNum });
    }
    published = true;
  }
  checkDone();
}
