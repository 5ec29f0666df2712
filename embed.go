// Package ndnsvsnode holds what the repository root provides to the rest of
// the module: the example configuration, embedded in the binary so that
// ndnsvs-node can print it.
package ndnsvsnode

import _ "embed"

// ExampleConfig is config.toml.example: every configuration key with its
// default value and what it trades off. Parsing it yields exactly
// config.Default() (a test in internal/config checks this). It is shared:
// do not modify it.
//
//go:embed config.toml.example
var ExampleConfig []byte
