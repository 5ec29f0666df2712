#!/usr/bin/env node
// secure-peer.mjs: an NDNts @ndn/svs 0.0.20250307 SVS v3 member whose State
// Vector Data are signed with an Ed25519 key and checked by a verifier, for
// internal/secinterop's tests. It is run from a folder whose node_modules
// is internal/interop/ndnts's (the test links it).
//
// NDNts's SvSync takes any Signer and any Verifier; @ndn/trust-schema (the
// schema verifier with certificate fetching) is not installed, so the
// verifier here knows the certificates given with --trust, each checked by
// NDNts's Certificate class (name form, validity period now), and accepts
// a Data only if its KeyLocator names one of them (full name, name minus
// version or key name) and the signature verifies with that key. It
// neither fetches nor checks chains or a schema.
//
// One JSON object per line on stdout:
//   {"event":"ready","boot":b}                  routed, member added
//   {"event":"publish","seq":n}
//   {"event":"update","node":"/x","boot":b,"lo":l,"hi":h}
//   {"event":"reject","reason":"...","dataName":"..."}   a refused Sync Interest
//   {"event":"error","message":"..."}           then exit 1
//
// Standard input: each line "publish" publishes once. The process exits when
// stdin closes.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const line = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const fail = (message) => {
  line({ event: "error", message });
  process.exit(1);
};
process.on("uncaughtException", (err) => fail(`uncaught: ${err?.stack ?? err}`));
process.on("unhandledRejection", (err) => fail(`unhandled rejection: ${err?.stack ?? err}`));

const { values: args } = parseArgs({
  strict: true,
  options: {
    socket: { type: "string" },
    group: { type: "string" },
    node: { type: "string" },
    "key-name": { type: "string" }, // /<id>/KEY/<kid>
    pkcs8: { type: "string" }, // file: the Ed25519 private key, PKCS#8 DER (ndnd's format)
    spki: { type: "string" }, // file: its public key, SPKI DER
    locator: { type: "string" }, // KeyLocator to sign with (ndnd's form: certificate minus version)
    trust: { type: "string", multiple: true, default: [] }, // files: certificates (TLV)
  },
});
for (const k of ["socket", "group", "node", "key-name", "pkcs8", "spki", "locator"]) {
  if (!args[k]) {
    fail(`--${k} is required`);
  }
}

const [{ Forwarder }, { Data, Name }, { AltUri }, { UnixTransport }, { NfdPrefixReg }, { SvSync }, { Decoder }, kc] =
  await Promise.all([
    import("@ndn/fw"),
    import("@ndn/packet"),
    import("@ndn/naming-convention2"),
    import("@ndn/node-transport"),
    import("@ndn/nfdmgmt"),
    import("@ndn/svs"),
    import("@ndn/tlv"),
    import("@ndn/keychain"),
  ]);
const { Certificate, createVerifier, generateSigningKey, Ed25519, ECDSA } = kc;
const uri = (name) => AltUri.ofName(name);

// The signer: ndnd's Ed25519 secret is PKCS#8, which NDNts imports as is.
const [privateKey] = await generateSigningKey(new Name(args["key-name"]), Ed25519, {
  importPkcs8: [readFileSync(args.pkcs8), readFileSync(args.spki)],
});
const signer = privateKey.withKeyLocator(new Name(args.locator));

// The verifier: KeyLocator to the trusted certificate's key.
const trusted = new Map();
for (const f of args.trust) {
  const cert = Certificate.fromData(new Decoder(readFileSync(f)).decode(Data));
  cert.checkValidity();
  const v = await createVerifier(cert, { algoList: [Ed25519, ECDSA] });
  for (const n of [cert.name, cert.name.getPrefix(-1), cert.name.getPrefix(-2)]) {
    trusted.set(uri(n), v);
  }
}
const verifier = {
  async verify(pkt) {
    const name = pkt.sigInfo?.keyLocator?.name;
    if (!name) {
      throw new Error(`no KeyLocator name (signature type ${pkt.sigInfo?.type})`);
    }
    const v = trusted.get(uri(name));
    if (!v) {
      throw new Error(`signer ${uri(name)} is not trusted`);
    }
    await v.verify(pkt);
  },
};

const fw = Forwarder.getDefault();
const uplink = await UnixTransport.createFace({ fw, addRoutes: ["/"] }, args.socket);
const group = new Name(args.group);
const sync = await SvSync.create({ syncPrefix: group, fw, svs3: true, suppressionPeriod: 200, signer, verifier });
sync.addEventListener("update", ({ id, loSeqNum, hiSeqNum }) => {
  line({ event: "update", node: uri(id.name), boot: id.boot, lo: loSeqNum, hi: hiSeqNum });
});
sync.addEventListener("rxerror", ({ detail: [interest, err] }) => {
  const ev = { event: "reject", reason: err?.message ?? String(err) };
  try {
    const { type, decoder } = new Decoder(interest.appParameters).read();
    if (type === 0x06) {
      ev.dataName = uri(decoder.decode(Data).name);
    }
  } catch {}
  line(ev);
});

// SvSync announces /<group>; NfdPrefixReg registers it with the forwarder.
let registered;
const ready = new Promise((resolve) => {
  registered = resolve;
});
class Reporting extends NfdPrefixReg {
  async doAdvertise(name, state) {
    await super.doAdvertise(name, state);
    registered();
  }
}
new Reporting(uplink, {}).enable(fw);
await ready;
const node = sync.add(new Name(args.node));
line({ event: "ready", boot: node.id.boot });

process.stdin.setEncoding("utf8");
let buf = "";
process.stdin.on("data", (chunk) => {
  buf += chunk;
  let i;
  while ((i = buf.indexOf("\n")) >= 0) {
    const cmd = buf.slice(0, i).trim();
    buf = buf.slice(i + 1);
    if (cmd === "publish") {
      node.seqNum = node.seqNum + 1;
      line({ event: "publish", seq: node.seqNum });
    }
  }
});
process.stdin.on("end", () => {
  sync.close();
  process.exit(0);
});
