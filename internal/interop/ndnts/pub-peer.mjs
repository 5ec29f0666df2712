#!/usr/bin/env node
// pub-peer.mjs: an NDNts SVS v3 member with publications, for ndnsvs-node's
// data-level interop test (data_test.go, docs/interop.md).
//
// It connects to a forwarder's unix socket (NFD protocol), joins a sync
// group with NDNts @ndn/svs SvSync { svs3: true, suppressionPeriod: 200 },
// registers /<group> with rib/register, and then:
//   - publishes one payload of each --publish-sizes: it serves the payload
//     with @ndn/segmented-object serve() under the shared-layer name
//     /<group>/<node>/t=<boot>/seq=<n>/v=0/seg=<i> (ndnd SvsALO's naming,
//     which ndnsvs-node's members fetch), DigestSha256-signed, and then
//     raises its sequence number, so that the group learns it;
//   - fetches each name of --fetch with @ndn/segmented-object fetch()
//     (segments seg=0.. appended to the name, up to FinalBlockId).
// It reports one JSON object per line on stdout:
//
//   {"event":"ready","node":...,"boot":b}
//   {"event":"published","seq":n,"size":bytes,"sha256":hex,"name":...}
//   {"event":"fetched","name":...,"size":bytes,"sha256":hex}
//   {"event":"fetch-error","name":...,"message":...}
//   {"event":"error","message":...}     then exit 1 (2 for bad arguments)
//   {"event":"exit","code":n}           last line
//
// It keeps serving until stdin closes (or --timeout), then exits 0.

import { createHash } from "node:crypto";
import { parseArgs } from "node:util";

const line = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
let exiting = false;
function exit(code) {
  if (exiting) {
    return;
  }
  exiting = true;
  line({ event: "exit", code });
  process.stdout.write("", () => process.exit(code));
}
const fail = (message, code = 1) => {
  line({ event: "error", message });
  exit(code);
};
process.on("uncaughtException", (err) => fail(`uncaught: ${err?.stack ?? err}`));
process.on("unhandledRejection", (err) => fail(`unhandled rejection: ${err?.stack ?? err}`));

const { values: args } = parseArgs({
  options: {
    socket: { type: "string" },
    group: { type: "string" },
    node: { type: "string" },
    "publish-sizes": { type: "string", default: "" },
    fetch: { type: "string", default: "" },
    timeout: { type: "string", default: "60000" },
  },
  strict: true,
});
if (!args.socket || !args.group || !args.node) {
  fail("usage: node pub-peer.mjs --socket PATH --group NAME --node NAME [--publish-sizes 1,100] [--fetch NAME,NAME] [--timeout MS]", 2);
}
const sizes = args["publish-sizes"].split(",").filter(Boolean).map((s) => Number.parseInt(s, 10));
if (sizes.some((n) => !Number.isInteger(n) || n < 0)) {
  fail(`--publish-sizes ${args["publish-sizes"]}: want sizes in bytes`, 2);
}

const [{ Forwarder }, { Component, Name, digestSigning }, { AltUri }, { UnixTransport }, { NfdPrefixReg }, { SvSync }, { Encoder, NNI }, { serve, fetch, BufferChunkSource }] =
  await Promise.all([
    import("@ndn/fw"),
    import("@ndn/packet"),
    import("@ndn/naming-convention2"),
    import("@ndn/node-transport"),
    import("@ndn/nfdmgmt"),
    import("@ndn/svs"),
    import("@ndn/tlv"),
    import("@ndn/segmented-object"),
  ]);
const uri = (name) => AltUri.ofName(name);
const sha256 = (b) => createHash("sha256").update(b).digest("hex");

const timer = setTimeout(() => fail(`timeout after ${args.timeout} ms`), Number.parseInt(args.timeout, 10));
process.stdin.on("end", () => {
  clearTimeout(timer);
  exit(0);
});
process.stdin.resume();

const groupPrefix = AltUri.parseName(args.group);
const nodeName = AltUri.parseName(args.node);
const fw = Forwarder.getDefault();
const uplink = await UnixTransport.createFace({ fw, addRoutes: ["/"] }, args.socket);
const sync = await SvSync.create({ syncPrefix: groupPrefix, fw, svs3: true, suppressionPeriod: 200 });

// rib/register /<group> (SvSync's announcement), waited for so that the
// group's Interests, and fetches of our publications under it, reach us.
let registered;
const ready = new Promise((resolve) => {
  registered = resolve;
});
class Reg extends NfdPrefixReg {
  async doAdvertise(name, state) {
    await super.doAdvertise(name, state);
    registered();
  }
}
new Reg(uplink, {}).enable(fw);
await ready;

const node = sync.add(nodeName);
const boot = node.id.boot;
line({ event: "ready", node: uri(nodeName), boot });

// Typed components as ndnd writes them: t= (56) and seq= (58) with the
// number as a NonNegativeInteger, v=0 (54).
const num = (type, n) => new Component(type, Encoder.encode(NNI(n)));
const servers = [];
for (const size of sizes) {
  const seq = node.seqNum + 1;
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; ++i) {
    payload[i] = (i * 7 + seq * 13) & 0xff;
  }
  const name = new Name(groupPrefix).append(...nodeName.comps).append(num(0x38, boot), num(0x3a, seq), num(0x36, 0));
  // The producer's prefix is under /<group>, which is already routed to
  // this face: no announcement of its own.
  servers.push(serve(name, new BufferChunkSource(payload), { signer: digestSigning, pOpts: { announcement: false } }));
  node.seqNum = seq;
  line({ event: "published", seq, size, sha256: sha256(payload), name: uri(name) });
}

for (const s of args.fetch.split(",").filter(Boolean)) {
  try {
    const payload = await fetch(AltUri.parseName(s), { retxLimit: 10 });
    line({ event: "fetched", name: s, size: payload.length, sha256: sha256(payload) });
  } catch (err) {
    line({ event: "fetch-error", name: s, message: err?.message ?? String(err) });
  }
}
