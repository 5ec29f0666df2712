package lvs

import (
	"fmt"
	"unicode/utf8"
)

// Pos is a place in an LVS text: line and column, both counted from 1, the column in
// characters.
type Pos struct {
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Error is what Compile and Load return for a text they refuse: where, and what is wrong.
// File is set by LoadFile. Err, if not nil, is a sentinel the error matches with errors.Is
// (ErrUserFunction).
type Error struct {
	File string
	Pos  Pos
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	where := e.Pos.String()
	if e.File != "" {
		where = e.File + ":" + where
	}
	return "lvs: " + where + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

func errAt(p Pos, format string, args ...any) *Error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

type tokKind int

const (
	tEOF tokKind = iota
	tStr
	tTag  // pattern identifier: CNAME
	tRule // #CNAME
	tFn   // $CNAME
	tSlash
	tColon
	tAmp
	tBar
	tLBrace
	tRBrace
	tComma
	tLParen
	tRParen
	tSignedBy // <=
)

var tokNames = [...]string{
	tEOF: "end of file", tStr: "a quoted component", tTag: "a pattern name",
	tRule: "a rule name (#name)", tFn: "a function name ($name)", tSlash: "'/'",
	tColon: "':'", tAmp: "'&'", tBar: "'|'", tLBrace: "'{'", tRBrace: "'}'", tComma: "','",
	tLParen: "'('", tRParen: "')'", tSignedBy: "'<='",
}

var punct = map[byte]tokKind{'/': tSlash, ':': tColon, '&': tAmp, '|': tBar, '{': tLBrace,
	'}': tRBrace, ',': tComma, '(': tLParen, ')': tRParen}

type token struct {
	kind tokKind
	text string // identifier with its sigil, or the string between the quotes
	pos  Pos
}

func (t token) describe() string {
	switch t.kind {
	case tStr:
		return fmt.Sprintf("%q", t.text)
	case tTag, tRule, tFn:
		return t.text
	}
	return tokNames[t.kind]
}

// lexer splits the text as python-ndn's Lark grammar does: whitespace is space, tab, form
// feed, CR and LF; comments run from "//" to the end of the line; identifiers are C
// identifiers in ASCII; a string ends at the first unescaped quote on its line.
type lexer struct {
	src  string
	off  int
	line int
	col  int
}

func (lx *lexer) pos() Pos { return Pos{lx.line, lx.col} }

func (lx *lexer) advance(n int) {
	for range n {
		r, size := utf8.DecodeRuneInString(lx.src[lx.off:])
		lx.off += size
		if r == '\n' {
			lx.line++
			lx.col = 1
		} else {
			lx.col++
		}
	}
}

func identStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func identChar(c byte) bool { return identStart(c) || '0' <= c && c <= '9' }

func (lx *lexer) next() (token, *Error) {
	for lx.off < len(lx.src) {
		c := lx.src[lx.off]
		if c == ' ' || c == '\t' || c == '\f' || c == '\r' || c == '\n' {
			lx.advance(1)
			continue
		}
		if c == '/' && lx.off+1 < len(lx.src) && lx.src[lx.off+1] == '/' {
			for lx.off < len(lx.src) && lx.src[lx.off] != '\n' {
				lx.advance(1)
			}
			continue
		}
		break
	}
	p := lx.pos()
	if lx.off >= len(lx.src) {
		return token{kind: tEOF, pos: p}, nil
	}
	c := lx.src[lx.off]
	if k, ok := punct[c]; ok {
		lx.advance(1)
		return token{kind: k, pos: p}, nil
	}
	switch {
	case c == '<':
		if lx.off+1 < len(lx.src) && lx.src[lx.off+1] == '=' {
			lx.advance(2)
			return token{kind: tSignedBy, pos: p}, nil
		}
		return token{}, errAt(p, "'<' must be followed by '=' (signed by)")
	case c == '"':
		i := lx.off + 1
		for {
			if i >= len(lx.src) || lx.src[i] == '\n' {
				return token{}, errAt(p, "string not closed on its line")
			}
			if lx.src[i] == '\\' && i+1 < len(lx.src) && lx.src[i+1] != '\n' {
				i += 2
				continue
			}
			if lx.src[i] == '"' {
				break
			}
			i++
		}
		text := lx.src[lx.off+1 : i]
		lx.advance(utf8.RuneCountInString(lx.src[lx.off : i+1]))
		return token{kind: tStr, text: text, pos: p}, nil
	case c == '#' || c == '$' || identStart(c):
		i := lx.off
		if !identStart(c) {
			i++
			if i >= len(lx.src) || !identStart(lx.src[i]) {
				return token{}, errAt(p, "%q must be followed by an identifier", rune(c))
			}
		}
		for i < len(lx.src) && identChar(lx.src[i]) {
			i++
		}
		text := lx.src[lx.off:i]
		lx.advance(i - lx.off)
		k := tTag
		switch c {
		case '#':
			k = tRule
		case '$':
			k = tFn
		}
		return token{kind: k, text: text, pos: p}, nil
	}
	r, _ := utf8.DecodeRuneInString(lx.src[lx.off:])
	return token{}, errAt(p, "unexpected character %q", r)
}

// AST. Positions are kept so that semantic errors can point at the text.

type compKind int

const (
	compValue compKind = iota
	compPattern
	compRule
)

type nameComp struct {
	kind  compKind
	value []byte // compValue: component TLV
	ident string // compPattern: pattern name; compRule: #rule
	pos   Pos
}

type optKind int

const (
	optValue optKind = iota
	optTag
	optFn
)

type fnArg struct {
	isValue bool
	value   []byte
	ident   string
	pos     Pos
}

type consOption struct {
	kind  optKind
	value []byte
	ident string // optTag: pattern name; optFn: $fn
	args  []fnArg
	pos   Pos
}

type consTerm struct {
	tag     string
	pos     Pos
	options []consOption
}

type ruleRef struct {
	id  string
	pos Pos
}

type ruleDef struct {
	id   string // as written; temporary rules get a "#n" suffix before compiling
	pos  Pos
	name []nameComp
	cons [][]consTerm // alternatives (ORed), each a set of terms (ANDed)
	sign []ruleRef
}

type parser struct {
	lx      lexer
	tok     token
	firstFn *token // the first user function call, if any
}

func (ps *parser) advance() *Error {
	t, err := ps.lx.next()
	if err != nil {
		return err
	}
	ps.tok = t
	return nil
}

func (ps *parser) expect(k tokKind) (token, *Error) {
	t := ps.tok
	if t.kind != k {
		return t, errAt(t.pos, "expected %s, found %s", tokNames[k], t.describe())
	}
	return t, ps.advance()
}

// parse reads a whole LVS text into rule definitions in the order written, and notes the
// first user function call.
func parse(src string) ([]*ruleDef, *token, *Error) {
	ps := &parser{lx: lexer{src: src, line: 1, col: 1}}
	if err := ps.advance(); err != nil {
		return nil, nil, err
	}
	var rules []*ruleDef
	for ps.tok.kind != tEOF {
		r, err := ps.definition()
		if err != nil {
			return nil, nil, err
		}
		rules = append(rules, r)
	}
	return rules, ps.firstFn, nil
}

func (ps *parser) definition() (*ruleDef, *Error) {
	id, err := ps.expect(tRule)
	if err != nil {
		if ps.tok.kind != tRule {
			return nil, errAt(ps.tok.pos, "expected a rule definition (#name: ...), found %s", ps.tok.describe())
		}
		return nil, err
	}
	if _, err := ps.expect(tColon); err != nil {
		return nil, err
	}
	r := &ruleDef{id: id.text, pos: id.pos}
	if ps.tok.kind == tSlash {
		if err := ps.advance(); err != nil {
			return nil, err
		}
	}
	for {
		c, err := ps.component()
		if err != nil {
			return nil, err
		}
		r.name = append(r.name, c)
		if ps.tok.kind != tSlash {
			break
		}
		if err := ps.advance(); err != nil {
			return nil, err
		}
	}
	if ps.tok.kind == tAmp {
		if err := ps.advance(); err != nil {
			return nil, err
		}
		for {
			set, err := ps.consSet()
			if err != nil {
				return nil, err
			}
			r.cons = append(r.cons, set)
			if ps.tok.kind != tBar {
				break
			}
			if err := ps.advance(); err != nil {
				return nil, err
			}
		}
	}
	if ps.tok.kind == tSignedBy {
		if err := ps.advance(); err != nil {
			return nil, err
		}
		for {
			t, err := ps.expect(tRule)
			if err != nil {
				return nil, err
			}
			r.sign = append(r.sign, ruleRef{id: t.text, pos: t.pos})
			if ps.tok.kind != tBar {
				break
			}
			if err := ps.advance(); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

func (ps *parser) component() (nameComp, *Error) {
	t := ps.tok
	var c nameComp
	switch t.kind {
	case tStr:
		v, err := parseComponent(t.text)
		if err != nil {
			return c, errAt(t.pos, "bad component string %q: %v", t.text, err)
		}
		c = nameComp{kind: compValue, value: v, pos: t.pos}
	case tTag:
		c = nameComp{kind: compPattern, ident: t.text, pos: t.pos}
	case tRule:
		c = nameComp{kind: compRule, ident: t.text, pos: t.pos}
	default:
		return c, errAt(t.pos, "expected a name component (\"string\", pattern or #rule), found %s", t.describe())
	}
	return c, ps.advance()
}

func (ps *parser) consSet() ([]consTerm, *Error) {
	if _, err := ps.expect(tLBrace); err != nil {
		return nil, err
	}
	var set []consTerm
	for {
		tag, err := ps.expect(tTag)
		if err != nil {
			return nil, err
		}
		if _, err := ps.expect(tColon); err != nil {
			return nil, err
		}
		term := consTerm{tag: tag.text, pos: tag.pos}
		for {
			o, err := ps.option()
			if err != nil {
				return nil, err
			}
			term.options = append(term.options, o)
			if ps.tok.kind != tBar {
				break
			}
			if err := ps.advance(); err != nil {
				return nil, err
			}
		}
		set = append(set, term)
		if ps.tok.kind != tComma {
			break
		}
		if err := ps.advance(); err != nil {
			return nil, err
		}
	}
	if _, err := ps.expect(tRBrace); err != nil {
		return nil, err
	}
	return set, nil
}

func (ps *parser) option() (consOption, *Error) {
	t := ps.tok
	switch t.kind {
	case tStr:
		v, err := parseComponent(t.text)
		if err != nil {
			return consOption{}, errAt(t.pos, "bad component string %q: %v", t.text, err)
		}
		return consOption{kind: optValue, value: v, pos: t.pos}, ps.advance()
	case tTag:
		return consOption{kind: optTag, ident: t.text, pos: t.pos}, ps.advance()
	case tFn:
		if ps.firstFn == nil {
			ps.firstFn = &t
		}
		if err := ps.advance(); err != nil {
			return consOption{}, err
		}
		o := consOption{kind: optFn, ident: t.text, pos: t.pos}
		if _, err := ps.expect(tLParen); err != nil {
			return o, err
		}
		// The grammar makes the first argument optional and every later one follow a
		// comma, so "$f()", "$f(a)" and also "$f(, a)" are all calls.
		first := true
		for ps.tok.kind != tRParen {
			if !first || ps.tok.kind == tComma {
				if _, err := ps.expect(tComma); err != nil {
					return o, err
				}
			}
			first = false
			a := ps.tok
			switch a.kind {
			case tStr:
				v, err := parseComponent(a.text)
				if err != nil {
					return o, errAt(a.pos, "bad component string %q: %v", a.text, err)
				}
				o.args = append(o.args, fnArg{isValue: true, value: v, pos: a.pos})
			case tTag:
				o.args = append(o.args, fnArg{ident: a.text, pos: a.pos})
			default:
				return o, errAt(a.pos, "expected a function argument (\"string\" or pattern), found %s", a.describe())
			}
			if err := ps.advance(); err != nil {
				return o, err
			}
		}
		return o, ps.advance()
	}
	return consOption{}, errAt(t.pos, "expected a constraint option (\"string\", pattern or $function(...)), found %s", t.describe())
}
