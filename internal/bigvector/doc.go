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
// Why waves, and not 400 members running at once. First the cost: every
// Sync Interest reaches every running member on its own unix connection,
// so joining costs O(n²) deliveries of packets of up to 8 KB; with all 400
// running, the members took about 120,000 Sync Interests per node within
// 50 s (2 CPUs shared with other jobs, load average 8 to 20). Then the
// protocol: a member that joins once the vector is over the bound learns
// the pairs beyond its first vector only in the turns of later partial
// vectors, at the pace of the group's periodic Sync Interests (a vector
// that may be partial is never outdated for lacking pairs, so nothing
// answers sooner); TestLateJoinerLearnsAGroupOverTheBound measures it in
// the simulator. With all 400 running (BIGVECTOR_RESIDENTS=134), a third
// of them still lacked pairs after 50 s, and after 100 s with joins 120 ms
// apart. With waves, the residents joined while the vector was small and
// every later name arrives as a newest entry, which partial vectors carry
// first: the vectors are full within about 25 s, the whole test takes
// about 40 s including the build. Early runs also saw route registrations
// time out (ndnd's RegisterRoute waits 1 s and does not try again); the
// members try up to five times and count it.
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
// BIGVECTOR_RESIDENTS=n keeps n members per node instead of 10
// (BIGVECTOR_RESIDENTS=134: all 400 at once, no waves);
// The nodes run at debug level: their built-in members' "update" lines are
// how the test knows that they learned the publications too.
// BIGVECTOR_LOG=debug-fw runs ndnd's forwarder at debug level as well;
// BIGVECTOR_LOGDIR=dir writes every process's whole output there at the
// end.
package bigvector
