// Package config reads, checks and describes the configuration of
// ndnsvs-node: one TOML file whose every key is listed, with its default and
// trade-off, in config.toml.example at the root of the repository and in
// docs/configuration.md.
//
// # Reading a file
//
// Load reads a file and Parse decodes bytes. Both start from Default, so a
// key that is absent keeps its default, and both decode strictly: a key this
// package does not know is an error, not a silent no-op, because a typo in a
// key would otherwise leave a listener open or a strategy unset without a
// word. After decoding they run Validate.
//
// # Errors
//
// Every problem is reported as an *Error that names the file, the line, the
// dotted key (faces.udp.listen[1], group[0].prefix) and the reason:
//
//	config: config.toml:12: faces.udp.listen[0]: "1.2.3.4:99999": port out of range
//
// All problems found are reported at once, joined with errors.Join, so one
// edit can fix them all. Each of them matches ErrInvalid with errors.Is.
// Decoding stops at the first syntax or type error (the rest of the document
// cannot be trusted after that), but unknown keys and failed checks are all
// collected.
//
// # Defaults
//
// Default is safe to run on a host without thought: the only network-facing
// listeners are UDP unicast on port 6363 and UDP multicast on the NDN group
// 224.0.23.170:56363, so that two nodes on one LAN find each other with no
// configuration, plus the local unix socket for applications. TCP and
// WebSocket are off. The forwarder's content store does not admit Data by
// default: ndnd v1.5.3 never frees the name-tree node of an evicted entry, and
// SVS publication names are unique, so a caching node grows without bound.
//
// # What this package does not do
//
// Load, Parse and Validate do no I/O beyond reading the file given to Load,
// open no socket and resolve no host name (neighbour and listen addresses
// must be literal IPs). What depends on the machine is checked apart, by
// Preflight (interfaces, files, groups, directories), so that `check` and a
// starting node refuse the same things; NodeName and EnsureNodeID write the
// node's id into its state directory the first time.
// It checks strategy short names (multicast, best-route); turning them into
// the versioned names ndnd needs is the strategy package's job. NDN names
// must pass both a strict parser of this package's own (see parseName) and
// ndnd's encoding.NameFromStr: the first refuses spellings that NDN software
// reads differently and inputs on which NameFromStr panics.
//
// # Concurrency
//
// A Config is a plain value. Methods never modify it; several goroutines may
// read one Config at once. Slices inside it are shared by copies of the
// value, so copy them before changing a Config another goroutine reads.
package config
