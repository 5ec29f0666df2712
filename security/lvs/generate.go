package lvs

import (
	"encoding/hex"
	"slices"
	"sort"
	"strconv"
	"strings"

	ts "github.com/named-data/ndnd/std/security/trust_schema"
	"github.com/named-data/ndnd/std/types/optional"
)

// generate builds the matching tree the way python-ndn does, depth first and numbering
// nodes in pre-order: the chains that end at this depth name the node; the others move on
// by value edges (sorted by component bytes), then by pattern edges (sorted by the text key
// of tag and constraints that python-ndn uses, so that chains with the same pattern and the
// same constraints share an edge). prev holds the tags bound on the way here.
func (c *compiler) generate(depth int, ctx []*chain, parent optional.Optional[uint64], prev []int) uint64 {
	node := &ts.LvsNode{Id: uint64(len(c.pool)), Parent: parent}
	c.pool = append(c.pool, node)
	c.signNames = append(c.signNames, nil)
	self := len(c.pool) - 1

	var rest []*chain
	for _, ch := range ctx {
		if depth == len(ch.name) {
			node.RuleName = append(node.RuleName, []byte(ch.id))
			c.signNames[self] = append(c.signNames[self], ch.sign...)
			c.ruleNodeIDs[ch.id] = append(c.ruleNodeIDs[ch.id], node.Id)
		} else {
			rest = append(rest, ch)
		}
	}
	ctx = rest

	// Group the chains moving on by value, then by pattern key, keeping their order within
	// each group (the order python-ndn lists rule names in at the nodes below).
	byValue := map[string][]*chain{}
	var values []string
	type move struct {
		tag  int
		cons []*ts.LvsPatternConstraint
		sub  []*chain
	}
	byKey := map[string]*move{}
	var keys []string
	for _, ch := range ctx {
		p := ch.name[depth]
		if p.isValue {
			v := string(p.value)
			if _, ok := byValue[v]; !ok {
				values = append(values, v)
			}
			byValue[v] = append(byValue[v], ch)
			continue
		}
		tag, cons, key := movement(ch, depth, prev)
		m, ok := byKey[key]
		if !ok {
			// The first chain with a key gives the edge its tag and constraints.
			m = &move{tag: tag, cons: cons}
			byKey[key] = m
			keys = append(keys, key)
		}
		m.sub = append(m.sub, ch)
	}
	sort.Strings(values) // byte order, as python-ndn sorts bytes
	for _, v := range values {
		dest := c.generate(depth+1, byValue[v], optional.Some(node.Id), prev)
		node.Edges = append(node.Edges, &ts.LvsValueEdge{Dest: dest, Value: []byte(v)})
	}
	sort.Strings(keys)
	for _, key := range keys {
		m := byKey[key]
		edge := &ts.LvsPatternEdge{ConsSets: m.cons}
		if m.tag >= 0 {
			edge.Tag = uint64(m.tag)
		} else {
			// Each temporary pattern edge gets its own tag above the named ones, numbered in
			// the order edges are made.
			c.tempTag++
			edge.Tag = c.tempTag
		}
		edge.Dest = c.generate(depth+1, m.sub, optional.Some(node.Id), append(slices.Clip(prev), m.tag))
		node.PatternEdges = append(node.PatternEdges, edge)
	}
	return node.Id
}

// movement gives the pattern edge a chain takes at depth: its tag, the constraints on that
// tag (none when the tag is already bound: it must then equal its earlier value), and the
// key python-ndn sorts and groups edges by.
func movement(ch *chain, depth int, prev []int) (int, []*ts.LvsPatternConstraint, string) {
	tag := ch.name[depth].tag
	key := strconv.Itoa(tag) + ":"
	if slices.Contains(prev, tag) {
		return tag, nil, key
	}
	var sb strings.Builder
	sb.WriteString(key)
	var sets []*ts.LvsPatternConstraint
	for _, term := range ch.cons {
		if !term.lhs[tag] {
			continue
		}
		pc := &ts.LvsPatternConstraint{}
		sb.WriteByte('{')
		for _, o := range term.options {
			opt := &ts.LvsConstraintOption{}
			switch o.kind {
			case optValue:
				opt.Value = o.value
				sb.WriteString("v=" + hex.EncodeToString(o.value))
			case optTag:
				opt.Tag = optional.Some(uint64(o.tag))
				sb.WriteString("t=" + strconv.Itoa(o.tag))
			case optFn:
				call := &ts.LvsUserFnCall{FnId: []byte(o.fn)}
				sb.WriteString(o.fn + "(")
				for _, a := range o.args {
					if a.isValue {
						call.Args = append(call.Args, &ts.LvsUserFnArg{Value: a.value})
						sb.WriteString("v=" + hex.EncodeToString(a.value))
					} else {
						call.Args = append(call.Args, &ts.LvsUserFnArg{Tag: optional.Some(uint64(a.tag))})
						sb.WriteString("t=" + strconv.Itoa(a.tag))
					}
				}
				sb.WriteByte(')')
				opt.Fn = call
			}
			pc.ConsOptions = append(pc.ConsOptions, opt)
			sb.WriteByte(',')
		}
		sb.WriteByte('}')
		sets = append(sets, pc)
	}
	return tag, sets, sb.String()
}

// signingLoop refuses a model whose signing relation has a cycle (a key that, through its
// signers, ends up signing itself), as python-ndn's Checker does when it loads a model.
func (c *compiler) signingLoop() error {
	n := len(c.pool)
	out := make([]int, n)
	preds := make([][]int, n)
	for i, node := range c.pool {
		out[i] = len(node.SignCons)
		for _, k := range node.SignCons {
			preds[k] = append(preds[k], i)
		}
	}
	var queue []int
	for i := range n {
		if out[i] == 0 {
			queue = append(queue, i)
		}
	}
	removed := make([]bool, n)
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		removed[k] = true
		for _, p := range preds[k] {
			out[p]--
			if out[p] == 0 {
				queue = append(queue, p)
			}
		}
	}
	start := slices.Index(removed, false)
	if start < 0 {
		return nil
	}
	// Every node left signs with some node left, so walking forward must come back.
	seen := map[int]int{}
	var walk []int
	for cur := start; ; {
		if at, ok := seen[cur]; ok {
			walk = append(walk[at:], cur)
			break
		}
		seen[cur] = len(walk)
		walk = append(walk, cur)
		for _, k := range c.pool[cur].SignCons {
			if !removed[k] {
				cur = int(k)
				break
			}
		}
	}
	names := make([]string, len(walk))
	for i, id := range walk {
		names[i] = ruleNames(c.pool[id])
	}
	p := Pos{1, 1}
	signer, signee := c.pool[walk[1]], c.pool[walk[0]]
	for _, r := range c.rules {
		if !slices.ContainsFunc(signee.RuleName, func(b []byte) bool { return string(b) == r.id }) {
			continue
		}
		for _, s := range r.sign {
			if slices.ContainsFunc(signer.RuleName, func(b []byte) bool { return string(b) == s.id }) {
				p = s.pos
				break
			}
		}
		if p != (Pos{1, 1}) {
			break
		}
	}
	return errAt(p, "signing chain loops: %s", strings.Join(names, " <= "))
}

func ruleNames(n *ts.LvsNode) string {
	s := make([]string, len(n.RuleName))
	for i, b := range n.RuleName {
		s[i] = string(b)
	}
	return strings.Join(s, "|")
}
