package lvs

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	ts "github.com/named-data/ndnd/std/security/trust_schema"
	"github.com/named-data/ndnd/std/types/optional"
)

// Limits on what a text may expand to. python-ndn has none, but it cannot go past about a
// thousand components either (Python's recursion limit), and an NDN name of at most 8800
// bytes has fewer than 4400 components, so a longer rule could never match anything. The
// limits keep a small hostile text (a rule with two definitions used twenty times in a row
// gives a million expansions) from taking the process's memory.
const (
	maxNameLen    = 1000    // components in one expanded rule
	maxExpansions = 1 << 12 // expanded rules (one per definition, constraint set and choice)
	maxWork       = 1 << 18 // components over all expanded rules
)

// Compile translates a LightVerSec text into the binary model ndnd loads with
// trust_schema.NewLvsSchema. The result is byte for byte what python-ndn's compiler
// (compile_lvs followed by encode) gives for the same text: same node numbering, tag
// numbering, edge order and symbols.
//
// It fails, with an *Error giving line:column, on a syntax error, a bad quoted component, a
// reference to an unknown or temporary rule, rules that refer to each other in a cycle, a
// constraint on a pattern that does not occur before it, a temporary pattern on the right of
// a constraint, and a signing chain that loops (python-ndn's compiler accepts the last, but
// its Checker refuses to load such a model), and on a text that expands past the limits
// above. User functions ($fn(...)) are compiled, as python-ndn does; Load refuses them.
func Compile(src string) ([]byte, error) {
	m, _, err := compile(src)
	if err != nil {
		return nil, err
	}
	return m.Bytes(), nil
}

// pattern is one component of an expanded rule name: a value, or a pattern tag (positive
// for a named pattern, negative for a temporary one, numbered as python-ndn does).
type pattern struct {
	isValue bool
	value   []byte
	tag     int
}

type resolvedArg struct {
	isValue bool
	value   []byte
	tag     int
}

type resolvedOption struct {
	kind  optKind
	value []byte
	tag   int
	fn    string
	args  []resolvedArg
}

// resolvedTerm is one "tag: option | option" term whose left side may stand for several
// name positions (every occurrence of a temporary pattern in its rule).
type resolvedTerm struct {
	lhs     map[int]bool
	options []resolvedOption
}

// chain is one expansion of a rule: its name with every rule reference replaced by one
// definition of that rule, and one choice of constraint set for each rule involved.
type chain struct {
	id   string
	name []pattern
	cons []*resolvedTerm
	sign []string
}

type compiler struct {
	rules     []*ruleDef
	ruleFirst map[string]*ruleDef // first definition of each rule id, for error positions
	named     map[string]int
	namedList []string
	nameTags  map[*ruleDef][]int // per rule, the tag of each name component that is a pattern
	terms     map[*ruleDef][][]*resolvedTerm
	rep       map[string][]*chain
	work      int

	pool        []*ts.LvsNode
	signNames   [][]string
	ruleNodeIDs map[string][]uint64
	tempTag     uint64
}

// compile returns the model and the first user function call in the text, if any.
func compile(src string) (*ts.LvsModel, *token, error) {
	rules, fn, perr := parse(src)
	if perr != nil {
		return nil, nil, perr
	}
	c := &compiler{rules: rules}
	if err := c.sortRules(); err != nil {
		return nil, nil, err
	}
	if err := c.numberPatterns(); err != nil {
		return nil, nil, err
	}
	if err := c.replicate(); err != nil {
		return nil, nil, err
	}
	m, err := c.emit()
	if err != nil {
		return nil, nil, err
	}
	return m, fn, nil
}

func isTempRule(id string) bool { return len(id) > 1 && id[1] == '_' }

// sortRules gives each temporary rule a unique id, checks every reference, and orders the
// rules so that a rule comes after every rule its name refers to (python-ndn's layered
// topological order, ties broken by id), keeping the written order among definitions of one
// rule.
func (c *compiler) sortRules() error {
	tempN := 1
	c.ruleFirst = map[string]*ruleDef{}
	for _, r := range c.rules {
		if isTempRule(r.id) {
			r.id += "#" + strconv.Itoa(tempN)
			tempN++
		}
		if c.ruleFirst[r.id] == nil {
			c.ruleFirst[r.id] = r
		}
	}
	adj := map[string][]string{}
	for id := range c.ruleFirst {
		adj[id] = nil
	}
	checkRef := func(id string, p Pos, what string) error {
		if isTempRule(id) {
			return errAt(p, "%s %s is a temporary rule, which cannot be referred to", what, id)
		}
		if c.ruleFirst[id] == nil {
			return errAt(p, "%s %s is not defined", what, id)
		}
		return nil
	}
	for _, r := range c.rules {
		for _, comp := range r.name {
			if comp.kind != compRule {
				continue
			}
			if err := checkRef(comp.ident, comp.pos, "rule"); err != nil {
				return err
			}
			adj[r.id] = append(adj[r.id], comp.ident)
		}
		for _, s := range r.sign {
			if err := checkRef(s.id, s.pos, "signing rule"); err != nil {
				return err
			}
		}
	}

	inDeg := map[string]int{}
	for _, dsts := range adj {
		for _, d := range dsts {
			inDeg[d]++
		}
	}
	done := map[string]bool{}
	var order []string
	for len(order) < len(adj) {
		var round []string
		for id := range adj {
			if !done[id] && inDeg[id] == 0 {
				round = append(round, id)
			}
		}
		if len(round) == 0 {
			return c.referenceCycle(adj, done)
		}
		sort.Strings(round)
		for _, id := range round {
			for _, d := range adj[id] {
				inDeg[d]--
			}
			done[id] = true
			order = append(order, id)
		}
	}
	slices.Reverse(order)
	idx := map[string]int{}
	for i, id := range order {
		idx[id] = i
	}
	sort.SliceStable(c.rules, func(i, j int) bool { return idx[c.rules[i].id] < idx[c.rules[j].id] })
	return nil
}

// referenceCycle finds one cycle among the rules left unsorted and reports it at the
// reference that closes it.
func (c *compiler) referenceCycle(adj map[string][]string, done map[string]bool) error {
	var ids []string
	for id := range adj {
		if !done[id] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	state := map[string]int{} // 1: on the path, 2: finished
	var path []string
	var found []string
	var visit func(id string) bool
	visit = func(id string) bool {
		state[id] = 1
		path = append(path, id)
		for _, d := range adj[id] {
			if state[d] == 1 {
				i := slices.Index(path, d)
				found = append(slices.Clone(path[i:]), d)
				return true
			}
			if state[d] == 0 && visit(d) {
				return true
			}
		}
		path = path[:len(path)-1]
		state[id] = 2
		return false
	}
	for _, id := range ids {
		if state[id] == 0 && visit(id) {
			break
		}
	}
	if len(found) < 2 {
		// Unreachable: rules that cannot be sorted always contain a cycle.
		return errAt(Pos{1, 1}, "rules refer to each other in a cycle")
	}
	from, to := found[len(found)-2], found[len(found)-1]
	p := c.ruleFirst[from].pos
	for _, r := range c.rules {
		if r.id != from {
			continue
		}
		for _, comp := range r.name {
			if comp.kind == compRule && comp.ident == to {
				p = comp.pos
				break
			}
		}
	}
	return errAt(p, "rules refer to each other in a cycle: %s", strings.Join(found, " -> "))
}

// numberPatterns numbers patterns in rule order: a named pattern keeps one number across
// the whole schema (from 1 up), every occurrence of a temporary pattern gets a new negative
// number; then it resolves each constraint to those numbers.
func (c *compiler) numberPatterns() error {
	c.named = map[string]int{}
	c.nameTags = map[*ruleDef][]int{}
	c.terms = map[*ruleDef][][]*resolvedTerm{}
	nextTemp := -1
	for _, r := range c.rules {
		temps := map[string][]int{}
		tags := make([]int, len(r.name))
		for i, comp := range r.name {
			if comp.kind != compPattern {
				continue
			}
			if comp.ident[0] == '_' {
				tags[i] = nextTemp
				temps[comp.ident] = append(temps[comp.ident], nextTemp)
				nextTemp--
				continue
			}
			n, ok := c.named[comp.ident]
			if !ok {
				n = len(c.named) + 1
				c.named[comp.ident] = n
				c.namedList = append(c.namedList, comp.ident)
			}
			tags[i] = n
		}
		c.nameTags[r] = tags

		sets := make([][]*resolvedTerm, 0, len(r.cons))
		for _, set := range r.cons {
			rset := make([]*resolvedTerm, 0, len(set))
			for _, term := range set {
				rt := &resolvedTerm{}
				if term.tag[0] == '_' {
					lhs, ok := temps[term.tag]
					if !ok {
						return errAt(term.pos, "temporary pattern %s does not occur in the name of %s", term.tag, r.id)
					}
					rt.lhs = map[int]bool{}
					for _, n := range lhs {
						rt.lhs[n] = true
					}
				} else {
					n, ok := c.named[term.tag]
					if !ok {
						return errAt(term.pos, "pattern %s is constrained before it occurs in any name", term.tag)
					}
					rt.lhs = map[int]bool{n: true}
				}
				for _, o := range term.options {
					ro := resolvedOption{kind: o.kind, value: o.value, fn: o.ident}
					switch o.kind {
					case optTag:
						n, err := c.rhsTag(o.ident, o.pos)
						if err != nil {
							return err
						}
						ro.tag = n
					case optFn:
						for _, a := range o.args {
							if a.isValue {
								ro.args = append(ro.args, resolvedArg{isValue: true, value: a.value})
								continue
							}
							n, err := c.rhsTag(a.ident, a.pos)
							if err != nil {
								return err
							}
							ro.args = append(ro.args, resolvedArg{tag: n})
						}
					}
					rt.options = append(rt.options, ro)
				}
				rset = append(rset, rt)
			}
			sets = append(sets, rset)
		}
		c.terms[r] = sets
	}
	return nil
}

func (c *compiler) rhsTag(ident string, p Pos) (int, error) {
	if ident[0] == '_' {
		return 0, errAt(p, "temporary pattern %s cannot be used on the right-hand side of a constraint", ident)
	}
	n, ok := c.named[ident]
	if !ok {
		return 0, errAt(p, "pattern %s is used in a constraint before it occurs in any name", ident)
	}
	return n, nil
}

// replicate expands every rule into chains, in rule order, so that a referenced rule is
// always expanded before the rules that use it.
func (c *compiler) replicate() error {
	c.rep = map[string][]*chain{}
	for _, r := range c.rules {
		sign := make([]string, len(r.sign))
		for i, s := range r.sign {
			sign[i] = s.id
		}
		sort.Strings(sign)
		var cur []*chain
		if sets := c.terms[r]; len(sets) == 0 {
			cur = []*chain{{id: r.id, sign: sign}}
		} else {
			for _, set := range sets {
				cur = append(cur, &chain{id: r.id, cons: set, sign: sign})
			}
		}
		tags := c.nameTags[r]
		for i, comp := range r.name {
			switch comp.kind {
			case compValue:
				for _, ch := range cur {
					ch.name = append(ch.name, pattern{isValue: true, value: comp.value})
				}
			case compPattern:
				for _, ch := range cur {
					ch.name = append(ch.name, pattern{tag: tags[i]})
				}
			case compRule:
				refs := c.rep[comp.ident]
				if len(refs)*len(cur) > maxExpansions {
					return errAt(comp.pos, "rule %s expands to more than %d alternatives", r.id, maxExpansions)
				}
				next := make([]*chain, 0, len(refs)*len(cur))
				for _, ref := range refs {
					for _, ch := range cur {
						next = append(next, &chain{
							id:   r.id,
							name: slices.Concat(ch.name, ref.name),
							cons: slices.Concat(ch.cons, ref.cons),
							sign: ch.sign,
						})
					}
				}
				cur = next
			}
			for _, ch := range cur {
				if len(ch.name) > maxNameLen {
					return errAt(comp.pos, "rule %s expands to more than %d components", r.id, maxNameLen)
				}
			}
		}
		for _, ch := range cur {
			c.work += len(ch.name)
		}
		if c.work > maxWork || len(c.rep[r.id])+len(cur) > maxExpansions {
			return errAt(r.pos, "the schema expands to too many rules (at %s)", r.id)
		}
		c.rep[r.id] = append(c.rep[r.id], cur...)
	}
	return nil
}

func (c *compiler) emit() (*ts.LvsModel, error) {
	ids := make([]string, 0, len(c.rep))
	for id := range c.rep {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var all []*chain
	for _, id := range ids {
		all = append(all, c.rep[id]...)
	}
	if len(all) > maxExpansions {
		return nil, errAt(Pos{1, 1}, "the schema expands to more than %d rules", maxExpansions)
	}
	c.ruleNodeIDs = map[string][]uint64{}
	c.tempTag = uint64(len(c.named))
	start := c.generate(0, all, optional.None[uint64](), nil)

	for i, node := range c.pool {
		for _, rid := range c.signNames[i] {
			nodes, ok := c.ruleNodeIDs[rid]
			if !ok {
				// Unreachable: sortRules checked every signing rule exists.
				return nil, errAt(Pos{1, 1}, "signed by unknown rule %s", rid)
			}
			node.SignCons = append(node.SignCons, nodes...)
		}
		slices.Sort(node.SignCons)
	}
	if err := c.signingLoop(); err != nil {
		return nil, err
	}

	m := &ts.LvsModel{
		Version:         ts.LVS_VERSION,
		StartId:         start,
		NamedPatternCnt: uint64(len(c.named)),
		Nodes:           c.pool,
	}
	for i, ident := range c.namedList {
		m.Symbols = append(m.Symbols, &ts.LvsTagSymbol{
			Tag:   optional.Some(uint64(i + 1)),
			Ident: []byte(ident),
		})
	}
	return m, nil
}
