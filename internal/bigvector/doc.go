// Package bigvector shows that a group of three nodes on UDP multicast keeps
// syncing with a 400-member state vector (issue 7): about 13 KB encoded
// whole, more than one NDN packet (8800 bytes) and nine times the UDP MTU
// (1420 bytes).
//
// Three real ndnsvs-node processes run in network namespaces on one bridge,
// multicast their only network face. Next to each, in its namespace, one
// cmd/members process runs a third of the 400 members, each an ndnd std
// engine on a unix connection of its own to its node (as any application
// would attach) with this module's svs.New on it; every member publishes
// once, so that all 400 names are in the vector. Once every member's vector
// holds all 400, one member per node publishes 20 times, and the test
// checks that every member on every node learns every one of these
// publications, and reports publish-to-learn latency (median, p99), the
// vector's encoded size and what the members counted (vectors sent in
// part, pairs left out, inbox drops).
//
// Run it as root (network namespaces) with
//
//	go test -v -count=1 ./internal/bigvector/
//
// Without root, or without iproute2's ip, it skips with a message.
// BIGVECTOR_MEMBERS=n runs n members instead of 400 (at least 3);
// BIGVECTOR_LOG=debug runs the nodes at debug level and prints the end of
// their logs when the test fails.
package bigvector
