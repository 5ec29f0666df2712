package config

import (
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// keyIndex records the line where each key of a TOML document is written,
// by dotted path with array indexes: "faces.udp.listen", "faces.udp.listen[1]",
// "group[0].prefix". Tables count too ("faces.udp" is the line of
// [faces.udp], or of the first key that implies it). It is built with
// go-toml's own parser, so it sees the document exactly as the decoder did:
// dotted keys, inline tables, arrays of tables and multi-line arrays.
type keyIndex struct {
	lines      map[string]int // path -> 1-based line
	scalars    map[string]scalar
	byLine     map[int][]string // line -> paths first written on it
	lineStarts []int            // byte offset of the start of each line
}

// indexKeys indexes data. On a syntax error it returns what it saw before
// the error; callers only use it on documents that decoded.
func indexKeys(data []byte) *keyIndex {
	ix := &keyIndex{
		lines:      map[string]int{},
		scalars:    map[string]scalar{},
		byLine:     map[int][]string{},
		lineStarts: []int{0},
	}
	for i, b := range data {
		if b == '\n' {
			ix.lineStarts = append(ix.lineStarts, i+1)
		}
	}

	var p unstable.Parser
	p.Reset(data)
	arrays := map[string]int{} // array-of-tables path -> elements seen
	table := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = ix.tableHeader(e, arrays)
		case unstable.KeyValue:
			ix.keyValue(table, e)
		}
	}
	return ix
}

// tableHeader records a [table] or [[array.table]] header and returns the
// path the key-values below it belong to.
func (ix *keyIndex) tableHeader(e *unstable.Node, arrays map[string]int) string {
	path := ""
	it := e.Key()
	for it.Next() {
		k := it.Node()
		line := ix.line(k.Raw.Offset)
		path = joinKey(path, string(k.Data))
		if it.IsLast() && e.Kind == unstable.ArrayTable {
			n := arrays[path]
			arrays[path] = n + 1
			ix.record(path, line)
			path += "[" + strconv.Itoa(n) + "]"
		} else if n := arrays[path]; n > 0 {
			// A sub-table of an array of tables belongs to its
			// latest element.
			path += "[" + strconv.Itoa(n-1) + "]"
		}
		ix.record(path, line)
	}
	return path
}

// keyValue records a key = value expression under the table at base.
func (ix *keyIndex) keyValue(base string, e *unstable.Node) {
	path := base
	line := 0
	it := e.Key()
	for it.Next() {
		k := it.Node()
		line = ix.line(k.Raw.Offset)
		path = joinKey(path, string(k.Data))
		ix.record(path, line)
	}
	ix.value(path, e.Value(), line)
}

// scalar is the kind and text of a scalar value in the document.
type scalar struct {
	kind unstable.Kind
	text string
}

// value records the elements of arrays, the keys of inline tables and the
// kind and text of scalars. Elements without a position of their own
// (nested arrays) take the line of their key.
func (ix *keyIndex) value(path string, v *unstable.Node, line int) {
	switch v.Kind {
	case unstable.String, unstable.Integer, unstable.Float, unstable.Bool:
		ix.scalars[path] = scalar{kind: v.Kind, text: string(v.Data)}
	case unstable.Array:
		i := 0
		it := v.Children()
		for it.Next() {
			el := it.Node()
			if el.Kind == unstable.Comment {
				continue
			}
			l := line
			if el.Raw.Length > 0 {
				l = ix.line(el.Raw.Offset)
			}
			p := path + "[" + strconv.Itoa(i) + "]"
			ix.record(p, l)
			ix.value(p, el, l)
			i++
		}
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			if kv := it.Node(); kv.Kind == unstable.KeyValue {
				ix.keyValue(path, kv)
			}
		}
	}
}

// record notes that path is written on line. The first line of a path is
// kept for lookups; every line it appears on is kept for indexed, so that a
// key defined twice is found on the line of its second definition.
func (ix *keyIndex) record(path string, line int) {
	if _, ok := ix.lines[path]; !ok {
		ix.lines[path] = line
	}
	ix.byLine[line] = append(ix.byLine[line], path)
}

// line returns the 1-based line of a byte offset.
func (ix *keyIndex) line(offset uint32) int {
	return sort.Search(len(ix.lineStarts), func(i int) bool {
		return ix.lineStarts[i] > int(offset)
	})
}

// lookup returns the line of path, or of its nearest ancestor written in the
// document (a key left at its default points at its table), or 0.
func (ix *keyIndex) lookup(path string) int {
	for path != "" {
		if l, ok := ix.lines[path]; ok {
			return l
		}
		path = parentKey(path)
	}
	return 0
}

// indexed returns the full path of a key go-toml reports on line: go-toml
// leaves out array indexes ("group.prefix" for group[1].prefix), and in
// some errors parts of the key (the inline table in "faces.port" for
// faces.udp.port, the table in "level" for log.level). It prefers the path
// on that line that reads as plain without its indexes, else the only one
// ending with the same key; failing both it returns plain.
func (ix *keyIndex) indexed(plain string, line int) string {
	for _, p := range ix.byLine[line] {
		if stripIndexes(p) == plain {
			return p
		}
	}
	last := lastPart(plain)
	found := ""
	for _, p := range ix.byLine[line] {
		if lastPart(stripIndexes(p)) != last || p == found {
			continue
		}
		if found != "" {
			return plain
		}
		found = p
	}
	if found == "" {
		return plain
	}
	return found
}

// lastPart returns the last key of a dotted path without indexes.
func lastPart(path string) string {
	parent := parentKey(path)
	if parent == "" {
		return path
	}
	return path[len(parent)+1:]
}

// joinKey appends one key part to a dotted path, quoting the part when it
// is not a bare TOML key.
func joinKey(path, part string) string {
	if !isBareKey(part) {
		part = strconv.Quote(part)
	}
	if path == "" {
		return part
	}
	return path + "." + part
}

func isBareKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// parentKey drops the last part of a dotted path: an array index, or a key.
// Quoted parts are not split.
func parentKey(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	inQuote := false
	cut := -1
	for i := 0; i < len(path); i++ {
		switch {
		case path[i] == '\\' && inQuote:
			i++
		case path[i] == '"':
			inQuote = !inQuote
		case path[i] == '.' && !inQuote:
			cut = i
		}
	}
	if cut < 0 {
		return ""
	}
	return path[:cut]
}

// stripIndexes removes the array indexes of a path: "group[1].prefix"
// becomes "group.prefix". Quoted parts are left alone.
func stripIndexes(path string) string {
	var b strings.Builder
	inQuote := false
	skip := false
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case inQuote:
			b.WriteByte(c)
			if c == '\\' && i+1 < len(path) {
				i++
				b.WriteByte(path[i])
			} else if c == '"' {
				inQuote = false
			}
		case skip:
			skip = c != ']'
		case c == '"':
			inQuote = true
			b.WriteByte(c)
		case c == '[':
			skip = true
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// plainKey joins the parts of a go-toml key the way keyIndex spells paths.
func plainKey(parts []string) string {
	path := ""
	for _, p := range parts {
		path = joinKey(path, p)
	}
	return path
}
