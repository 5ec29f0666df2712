// Package link is the link layer of the node's network faces, with no I/O of
// its own: it splits streams into frames, checks datagrams, decodes and
// encodes the NDNLPv2 header (LpPacket), and fragments and reassembles
// packets larger than a link's MTU, with every resource bounded.
//
// Everything here reads bytes from the network, so every decoder rejects
// what it cannot accept with an error, never a panic, never a loop, and
// never an allocation sized by a number read from the wire. Each has a fuzz
// target.
//
// It exists because ndnd v1.5.3's own transports are not safe on a network:
// its stream framer (std/utils/io.ReadTlvStream) panics on a TLV-LENGTH
// above 2^63 and loops on one near 2^64, UDP faces read datagrams through
// it as a stream, and its reassembler allocates a slice as long as the
// FragCount a packet claims (named-data/ndnd issue 211).
package link
