package lvs

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"

	enc "github.com/named-data/ndnd/std/encoding"
	ts "github.com/named-data/ndnd/std/security/trust_schema"

	"github.com/ndnsvs/ndnsvs-node/fw/link"
)

var (
	// ErrUserFunction: the schema uses a user function ($fn(...)). ndnd v1.5.3 loads such a
	// model but panics when a name reaches the constrained edge, so a remote packet could
	// crash the node.
	ErrUserFunction = errors.New("lvs: user functions are not supported: ndnd v1.5.3 panics on them at match time")
	// ErrUnsafeModel: the binary model has a shape NewLvsSchema accepts but ndnd v1.5.3's
	// matcher would panic, loop or match wrongly on.
	ErrUnsafeModel = errors.New("lvs: model would make ndnd v1.5.3 panic, loop or mismatch at match time")
	// ErrMalformed: the binary model does not decode or ndnd refuses it.
	ErrMalformed = errors.New("lvs: malformed binary model")
	// ErrNoRules: the schema names no rule, so it would refuse every packet. An empty or
	// all-comment file is more likely a mistake than a wish to trust nothing.
	ErrNoRules = errors.New("lvs: the schema defines no rules")
)

// tlvModelVersion is the TLV type a binary model starts with (LvsModel.Version).
const tlvModelVersion = 0x61

// Load turns an LVS schema into ndnd's LvsSchema. b is either a binary model (it starts
// with TLV type 0x61, the model version) or LVS text, which is compiled first. A schema
// that ndnd v1.5.3 could panic, loop or mismatch on while matching a name is refused: a
// text using $fn(...) with ErrUserFunction at its position, a binary model with
// ErrUserFunction or ErrUnsafeModel. So is a schema without rules (ErrNoRules).
func Load(b []byte) (*ts.LvsSchema, error) {
	if len(b) == 0 || b[0] != tlvModelVersion {
		m, fn, err := compile(string(b))
		if err != nil {
			return nil, err
		}
		if fn != nil {
			// Refused even where the compiler dropped the call (a constraint on a pattern
			// the rule does not have): the author asked for something ndnd cannot do.
			return nil, &Error{Pos: fn.pos, Msg: fn.text + ": user functions are not supported: ndnd v1.5.3 panics on them at match time", Err: ErrUserFunction}
		}
		b = m.Bytes()
	}
	m, err := parseModel(b)
	if err != nil {
		return nil, err
	}
	if err := checkModel(m); err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(m.Nodes, func(n *ts.LvsNode) bool { return len(n.RuleName) > 0 }) {
		return nil, ErrNoRules
	}
	return newSchema(b)
}

// LoadFile reads a schema file (text or binary, as for Load) and loads it. Errors name the
// file.
func LoadFile(path string) (*ts.LvsSchema, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lvs: %w", err)
	}
	s, err := Load(b)
	if err != nil {
		var le *Error
		if errors.As(err, &le) {
			e := *le
			e.File = path
			return nil, &e
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// modelGrammar is how ndnd's decoder reads a binary model (definitions_lvs.go): the
// elements it reads field by field, down to the arguments of a user function call.
var modelGrammar = link.Grammar{
	{Type: 0x63, Inner: link.Grammar{ // node
		{Type: 0x51}, // value edge
		{Type: 0x53, Inner: link.Grammar{ // pattern edge
			{Type: 0x43, Inner: link.Grammar{ // constraint
				{Type: 0x41, Inner: link.Grammar{ // option
					{Type: 0x31, Inner: link.Grammar{{Type: 0x33}}}, // user function call: arguments
				}},
			}},
		}},
	}},
	{Type: 0x67}, // tag symbol
}

// parseModel decodes with ndnd's own decoder, so the checks below see what ndnd will see.
// It is generated code reading untrusted bytes. It makes a byte string of the length an
// element claims before it reads a byte of it, so 9 bytes claiming 2^40 are a fatal
// out-of-memory no recover can catch (found by FuzzLoad): every length is checked against
// what holds it first. A panic of the decoder is an error.
func parseModel(b []byte) (m *ts.LvsModel, err error) {
	if err := link.Within(b, modelGrammar); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%w: decoder panicked: %v", ErrMalformed, r)
		}
	}()
	m, err = ts.ParseLvsModel(enc.NewBufferView(b), false)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return m, nil
}

func newSchema(b []byte) (s *ts.LvsSchema, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("%w: ndnd panicked loading it: %v", ErrMalformed, r)
		}
	}()
	s, err = ts.NewLvsSchema(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return s, nil
}

// checkModel refuses what ndnd v1.5.3's LvsSchema.Match and checkCons (used by Check and
// Suggest) could panic or loop on, beyond what NewLvsSchema checks:
//   - checkCons panics on an option with a user function, or with none of value, tag and
//     function;
//   - Match indexes Nodes[StartId] and Nodes[pattern edge Dest] unchecked (NewLvsSchema
//     checks value edges only);
//   - Match backtracks through Parent, so every edge's destination must name the edge's
//     source as parent (or backtracking resumes at the wrong node with another node's edge
//     index, and matches wrongly), and the start node must have none (or, probed, Match
//     never returns);
//   - Match walks every edge, so two edges into one node make it walk that node's subtree
//     twice; stacked level on level, a model of a few hundred bytes takes 2^depth steps for
//     one name (and yields as many matches). Every node but the start must be the
//     destination of exactly one edge, which makes a Match at most one step per node;
//   - Match records a bound named tag as int(tag); a named tag above MaxInt would turn
//     negative and never be unbound.
func checkModel(m *ts.LvsModel) error {
	n := uint64(len(m.Nodes))
	if m.Version != ts.LVS_VERSION {
		return fmt.Errorf("%w: version %#x, want %#x", ErrMalformed, m.Version, ts.LVS_VERSION)
	}
	if m.StartId >= n {
		return fmt.Errorf("%w: start node %d does not exist (%d nodes)", ErrUnsafeModel, m.StartId, n)
	}
	if m.NamedPatternCnt > math.MaxInt32 {
		return fmt.Errorf("%w: %d named patterns", ErrUnsafeModel, m.NamedPatternCnt)
	}
	for i, node := range m.Nodes {
		if node == nil || node.Id != uint64(i) {
			return fmt.Errorf("%w: node %d has a wrong id", ErrMalformed, i)
		}
	}
	if m.Nodes[m.StartId].Parent.IsSet() {
		return fmt.Errorf("%w: start node %d has a parent", ErrUnsafeModel, m.StartId)
	}
	entered := make([]bool, n)
	dest := func(from, to uint64) error {
		if to >= n {
			return fmt.Errorf("%w: node %d has an edge to node %d, which does not exist", ErrUnsafeModel, from, to)
		}
		if p, ok := m.Nodes[to].Parent.Get(); !ok || p != from {
			return fmt.Errorf("%w: node %d has an edge to node %d, whose parent is not %d", ErrUnsafeModel, from, to, from)
		}
		if entered[to] {
			return fmt.Errorf("%w: node %d is the destination of more than one edge", ErrUnsafeModel, to)
		}
		entered[to] = true
		return nil
	}
	for _, node := range m.Nodes {
		for _, e := range node.Edges {
			if e == nil {
				return fmt.Errorf("%w: node %d has an empty value edge", ErrMalformed, node.Id)
			}
			if err := dest(node.Id, e.Dest); err != nil {
				return err
			}
		}
		for _, e := range node.PatternEdges {
			if e == nil {
				return fmt.Errorf("%w: node %d has an empty pattern edge", ErrMalformed, node.Id)
			}
			if err := dest(node.Id, e.Dest); err != nil {
				return err
			}
			for _, cons := range e.ConsSets {
				if cons == nil {
					return fmt.Errorf("%w: edge %d->%d has an empty constraint", ErrMalformed, node.Id, e.Dest)
				}
				for _, o := range cons.ConsOptions {
					if o == nil {
						return fmt.Errorf("%w: edge %d->%d has an empty constraint option", ErrUnsafeModel, node.Id, e.Dest)
					}
					if o.Fn != nil {
						return fmt.Errorf("%w (edge %d->%d calls %q)", ErrUserFunction, node.Id, e.Dest, o.Fn.FnId)
					}
					if o.Value == nil && !o.Tag.IsSet() {
						return fmt.Errorf("%w: edge %d->%d has a constraint option with no value, tag or function", ErrUnsafeModel, node.Id, e.Dest)
					}
				}
			}
		}
	}
	return nil
}
