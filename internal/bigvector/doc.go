// Package bigvector shows that a group of three nodes on UDP multicast keeps
// syncing with a 400-member state vector (issue 7): 13.2 KB encoded whole,
// more than one NDN packet (8800 bytes) and nine times the UDP MTU (1420
// bytes), so every Sync Interest between the nodes is sent in part
// (svs/core's MaxVectorBytes, 8000 bytes by default: own entry and the most
// recent entries first) and crosses the link in NDNLPv2 fragments.
//
// Three real ndnsvs-node processes run in network namespaces on one bridge,
// multicast their only network face. Next to each, in its namespace, one
// cmd/members process runs a third of the 400 members, each an ndnd std
// engine on a unix connection of its own to its node (as any application
// would attach) with this module's svs.New on it. Every member publishes
// once, so that all 400 names are in the vector, from real members through
// the protocol. Ten members per node (the residents) stay to the end; the
// other 370 are members that existed earlier: they come in waves of 20 per
// node, publish once, and leave (close their engine and connection) once
// the residents of their node hold their entries. Once every resident's
// vector holds all 400 entries, one resident per node publishes 20 times,
// 200 ms apart, and the test checks that every resident on every node, and
// every node's own built-in member, learns every one of these 60
// publications, and reports publish-to-learn
// latency (median, p99), the vector's encoded size and what the members
// counted (Sync Interests sent in part and pairs left out, inbox drops, new
// names refused by the admission bucket, route registrations tried again),
// each namespace's UDP counters while publishing (the multicast face is its
// only UDP socket: 6 datagrams per Sync Interest, the NDNLPv2 fragments),
// and the nodes' WARN lines.
//
// Why waves, and not 400 members running at once: every Sync Interest
// reaches every running member on its own unix connection, so joining costs
// O(n²) deliveries of packets of up to 8 KB. Measured with all 400 running
// (2 CPUs, load average 15 to 20 from other jobs on the machine, 2026-11-29):
// after 50 s only about 290 members had joined, the members had taken about
// 290,000 Sync Interests from their nodes (about 5,700 a second in all), no
// vector was full, and route registrations timed out (ndnd's RegisterRoute
// waits 1 s and does not try again; the members now try up to five times
// and count it). With waves, the vectors are full within about 10 s and the
// whole test takes under a minute including the build.
//
// The members that come and go join at 25 new names a second, under
// svs/core's admission rate (32/s): faster, the residents' admission
// buckets ran dry and the refused names were not learned for the rest of
// the run. TestRefusedNamesAreAdmittedLaterAlsoWhenVectorsArePartial shows
// why in the simulator (no root needed): with vectors over the bound, a
// refused name is brought again only by its own member's periodic Sync
// Interest, which the others' suppress.
//
// Run it as root (network namespaces) with
//
//	go test -v -count=1 ./internal/bigvector/
//
// Without root, or without iproute2's ip, it skips with a message.
// BIGVECTOR_MEMBERS=n runs n members instead of 400 (at least 3);
// The nodes run at debug level: their built-in members' "update" lines are
// how the test knows that they learned the publications too.
// BIGVECTOR_LOG=debug-fw runs ndnd's forwarder at debug level as well;
// BIGVECTOR_LOGDIR=dir writes every process's whole output there at the
// end.
package bigvector
