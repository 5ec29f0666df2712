// Package lvs compiles LightVerSec (LVS) trust schemas and loads them, safely, into ndnd's
// trust_schema.LvsSchema.
//
// Why it exists: ndnd v1.5.3 only loads the compiled binary LVS model
// (trust_schema.NewLvsSchema); it has no compiler for the text form. The usual compiler is
// python-ndn's, which a node's host may not have. Compile is an independent Go
// implementation of that compiler whose output is byte for byte python-ndn's (same node
// numbering, tag numbering, edge order and symbols); the tests check it against the
// compiled models that ship with ndnd v1.5.3 and NDNts's python-ndn-compiled fixtures.
//
// The grammar is python-ndn's:
//
//	file        = { definition }
//	definition  = RULE ":" name [ "&" consSet { "|" consSet } ] [ "<=" RULE { "|" RULE } ]
//	name        = [ "/" ] component { "/" component }
//	component   = STR | PATTERN | RULE
//	consSet     = "{" term { "," term } "}"
//	term        = PATTERN ":" option { "|" option }
//	option      = STR | PATTERN | FN "(" [ arg ] { "," arg } ")"
//	arg         = STR | PATTERN
//
// PATTERN is a C identifier (ASCII), RULE is "#" PATTERN and FN is "$" PATTERN. A named
// pattern matches one component and must match the same one wherever it recurs, in the
// packet's rule and its signer's. A pattern starting with "_" is temporary: each
// occurrence matches any component on its own. A rule starting with "#_" is temporary too
// and cannot be referred to. STR is a quoted NDN URI component in python-ndn's
// syntax: unreserved characters, %XX escapes, "TYPE=value" for other types (for example
// "32=DV"), "v=", "seg=", "off=", "t=", "seq=" numbers and "sha256digest=" /
// "params-sha256=" hex. Comments run from "//" to the end of the line. A rule may be
// defined several times; its definitions are alternatives.
//
// Load accepts a binary model or a text, and refuses any model that ndnd v1.5.3 could
// panic, loop or mismatch on while matching a name from the network: user functions
// ($fn(...), which ndnd does not implement and panics on), constraint options with no
// value, tag or function, and graph shapes NewLvsSchema does not check (a start node or a
// pattern-edge destination out of range, a pattern edge whose destination names another
// parent, a start node with a parent, a node entered by more than one edge, which makes
// matching exponential, more named tags than an int holds). A binary model whose element
// lengths run past what holds them is refused before ndnd's decoder, which would allocate
// the claimed length, sees it. It also refuses a schema with no rule at all, which would
// refuse every packet.
//
// All functions are safe for concurrent use; they keep no state.
package lvs
