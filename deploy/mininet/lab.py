#!/usr/bin/python3
"""An ndnsvs-node lab in Mininet: N hosts, each running a node, on LANS
Linux bridges in a line, joined by hosts on two LANs each (the routers:
their nodes forward the group between their multicast faces). Nothing is
configured but the node's name and socket: the nodes find each other by
multicast alone, across the routers too.

Each host then runs the count app once (one publication per host, at the
same moment), and the script waits until every node's own member of the
group knows every host's publication. It prints a JSON report: the time to
converge (from the start of the publications to the last node's learning
the last one, by the nodes' own "last heard" times), and the Sync
Interests per publication (sent by the nodes' members, and Interests on
the multicast faces of all nodes: Sync Interests of every member, apps'
too, and the fetches of the publications).

    unshare -n -m /usr/bin/python3 deploy/mininet/lab.py --bin ./ndnsvs-node -n 40

Run it in a network namespace of its own (unshare -n): Mininet's hosts are
namespaces made from there, so nothing reaches the machine's interfaces.
It needs Debian's mininet and bridge-utils, and root. Never run "mn -c" on
a shared machine: it kills processes by name; this script stops what it
started, by process.
"""

import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
import time

from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import Topo
from mininet.log import setLogLevel

GROUP = "/ndn/svs"


class Lans(Topo):
    """n hosts on `lans` bridges in a line; host k of LAN i>0 for k=0 is
    the router between LAN i-1 and LAN i (it has a link on both)."""

    def build(self, n=40, lans=4):
        switches = [self.addSwitch("s%d" % (i + 1)) for i in range(lans)]
        per = n // lans
        for h in range(n):
            lan = min(h // per, lans - 1)
            host = self.addHost("h%d" % (h + 1), ip=None)
            self.addLink(host, switches[lan])
            if lan > 0 and h == lan * per:
                self.addLink(host, switches[lan - 1])


def config(d, host):
    return f"""[node]
name = "/mn/{host}/node"
state_dir = "{d}/{host}/state"
[faces.unix]
path = "{d}/{host}/nfd.sock"
[faces.udp]
enabled = false
[metrics]
listen = "127.0.0.1:9363"
[health]
enabled = false
"""


def status(h, d, bin, tries=5):
    """The node's status report; a node too busy to answer (40 nodes
    starting on two cores) is asked again."""
    for i in range(tries):
        err = f"{d}/{h.name}/status.err"
        out = h.cmd(f"{bin} status -o json --timeout 10s --config {d}/{h.name}/config.toml 2>{err}")
        try:
            return json.loads(out)
        except ValueError:
            if i == tries - 1:
                with open(err) as f:
                    raise RuntimeError(f"{h.name}: status: {out.strip()} {f.read().strip()}")
            time.sleep(0.5)


def group_of(report):
    for g in report["status"]["groups"]:
        if g["prefix"] == GROUP:
            return g
    return None


def multicast_out(report):
    return sum(f["out_interests"] for f in report["faces"] if f["remote"].startswith("udp4://224."))


def parse_time(s):
    # RFC 3339 with nanoseconds, which fromisoformat does not take.
    s = s.replace("Z", "+00:00")
    if "." in s:
        head, rest = s.split(".", 1)
        frac = rest[: rest.index("+") if "+" in rest else rest.index("-")]
        zone = rest[len(frac):]
        s = head + "." + frac[:6].ljust(6, "0") + zone
    return datetime.datetime.fromisoformat(s).timestamp()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the ndnsvs-node binary")
    ap.add_argument("-n", type=int, default=40, help="hosts")
    ap.add_argument("--lans", type=int, default=4, help="LANs in a line")
    ap.add_argument("--timeout", type=float, default=60, help="seconds to converge")
    args = ap.parse_args()
    bin = os.path.abspath(args.bin)
    setLogLevel("warning")
    d = tempfile.mkdtemp(prefix="ndnsvs-mininet-")
    net = Mininet(topo=Lans(n=args.n, lans=args.lans), switch=LinuxBridge, controller=None, autoSetMacs=True)
    procs = []
    report = {"hosts": args.n, "lans": args.lans}
    try:
        net.start()
        # Addresses: 10.77.<lan>.<host> on each of a host's interfaces.
        for i, h in enumerate(net.hosts):
            for j, intf in enumerate(h.intfList()):
                h.cmd(f"ip addr flush dev {intf.name}")
                lan = int(intf.link.intf2.node.name[1:]) if intf.link else 0
                h.cmd(f"ip addr add 10.77.{lan}.{i + 1}/24 dev {intf.name}")
        for h in net.hosts:
            os.makedirs(f"{d}/{h.name}/state", exist_ok=True)
            with open(f"{d}/{h.name}/config.toml", "w") as f:
                f.write(config(d, h.name))
            log = open(f"{d}/{h.name}/node.log", "w")
            procs.append(h.popen([bin, "run", "--config", f"{d}/{h.name}/config.toml"], stdout=log, stderr=log))
        deadline = time.time() + 20
        for h in net.hosts:
            while not group_of(status(h, d, bin) if os.path.exists(f"{d}/{h.name}/nfd.sock") else {"status": {"groups": []}}):
                if time.time() > deadline:
                    sys.exit(f"{h.name}: the node is not up; see {d}/{h.name}/node.log")
                time.sleep(0.1)
        time.sleep(1)  # the multicast faces and the first Sync Interests
        before = {h.name: status(h, d, bin) for h in net.hosts}

        # One publication per host, all at once: the count app publishes 1
        # at its start, and its next one only in an hour.
        start = time.time()
        for h in net.hosts:
            env = dict(os.environ, NDN_CLIENT_TRANSPORT=f"unix://{d}/{h.name}/nfd.sock", HOME=f"{d}/{h.name}")
            procs.append(h.popen([bin, "count", "-n", f"/mn/{h.name}/count", "-i", "3600", "-attach", "yes",
                                  "-state", f"{d}/{h.name}/count"],
                                 stdout=open(os.devnull, "w"), stderr=open(f"{d}/{h.name}/count.log", "w"), env=env))
        members = [f"/mn/{h.name}/count" for h in net.hosts]
        converged = None
        while time.time() < start + args.timeout:
            time.sleep(0.5)
            after = {h.name: status(h, d, bin) for h in net.hosts}
            missing = 0
            last = 0.0
            unknown = {}  # member -> nodes that do not know its publication
            for h in net.hosts:
                known = {m["name"]: m for m in group_of(after[h.name])["members"]}
                for m in members:
                    if m not in known or known[m]["seq"] < 1:
                        missing += 1
                        unknown[m] = unknown.get(m, 0) + 1
                    elif known[m]["last_heard"]:
                        last = max(last, parse_time(known[m]["last_heard"]))
            if missing == 0:
                converged = last - start
                break
        report["converged"] = converged is not None
        report["missing_at_timeout"] = 0 if converged is not None else missing
        if converged is None:
            report["unknown"] = {}
            for m, nodes in sorted(unknown.items()):
                host = m.split("/")[2]
                with open(f"{d}/{host}/count.log") as f:
                    log = f.read()[-400:]
                report["unknown"][m] = {"nodes_without_it": nodes, "count_log": log}
        if converged is not None:
            report["seconds_to_converge"] = round(converged, 3)
            time.sleep(1)  # what converging sent, counted after it settled
            after = {h.name: status(h, d, bin) for h in net.hosts}
            pubs = len(members)
            sent = sum(group_of(after[n])["sync_interests_sent"] - group_of(before[n])["sync_interests_sent"] for n in after)
            wire = sum(multicast_out(after[n]) - multicast_out(before[n]) for n in after)
            report["publications"] = pubs
            report["node_sync_interests_per_publication"] = round(sent / pubs, 2)
            report["multicast_interests_per_publication"] = round(wire / pubs, 2)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except Exception:
                p.kill()
        net.stop()
        shutil.rmtree(d, ignore_errors=True)
    print(json.dumps(report))
    return 0 if report["converged"] else 1


if __name__ == "__main__":
    sys.exit(main())
