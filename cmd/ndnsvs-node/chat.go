package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/boltstore"
	"github.com/ndnsvs/ndnsvs-node/svs/core"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// chatRetention bounds each class (own, fetched) of a chat's store: the
// history a restarted chat can show and serve.
var chatRetention = svs.Retention{MaxCount: 10_000, MaxBytes: 64 << 20}

// maxChatLine bounds one typed line: what one publication carries.
const maxChatLine = 64 << 10

var chatApp = &app{
	name:    "chat",
	summary: "an interactive terminal chat over the group's shared layer, with history after a restart",
	about: `The seed's chat example. Each line typed is published on -gp (empty lines are
not) and shown as "YOU: <line>"; the lines of the others are shown as
"<name>: <line>", each member's in order. Publications go through the
shared layer: any member that fetched one serves it too, so a message
reaches a member that joins after its author left.

What the chat published and fetched is kept in a store in the state
directory (--state; one file per name and group), so a chat started again
with the same -n shows the last --history messages and still serves what it
published; it comes back as a new incarnation of its name (a new bootstrap
time: its numbering starts again, and the others drop the old one after a
while). Two chats with the same -n and -gp on one machine are refused (the
store is locked).

Ctrl-D or Ctrl-C quits.`,
	bind: func(fs *flag.FlagSet) appBody {
		history := fs.Int("history", 20, "messages of the history to show at start (0: none)")
		return func(ctx context.Context, h *appHost, stdio appIO) error {
			if *history < 0 {
				return fmt.Errorf("--history %d: want 0 or more", *history)
			}
			return runChat(ctx, h, stdio, *history)
		}
	},
}

// runChat is the chat app: a member of the group with a publication layer
// on a bbolt store of its own.
func runChat(ctx context.Context, h *appHost, stdio appIO, history int) error {
	path, err := h.storePath()
	if err != nil {
		return err
	}
	store, err := boltstore.Open(path, boltstore.Options{StorageConfig: svs.StorageConfig{Own: chatRetention, Fetched: chatRetention}})
	if err != nil {
		return fmt.Errorf("chat store %s: %w", path, err)
	}
	defer store.Close()

	ps, err := loadProducers(strings.TrimSuffix(path, ".db") + ".producers")
	if err != nil {
		return fmt.Errorf("chat history: %w", err)
	}
	past, shown, err := chatHistory(store, h.node, ps, history)
	if err != nil {
		return fmt.Errorf("chat store %s: %w", path, err)
	}
	out := &chatScreen{w: stdio.stdout}
	if f, ok := stdio.stdin.(*os.File); ok && stdio.tty {
		if restore, ok := rawInput(f); ok {
			out.edit = true
			defer func() {
				out.mu.Lock()
				fmt.Fprint(out.w, "\r\x1b[2K") // the prompt goes with the chat
				out.mu.Unlock()
				restore()
			}()
		}
	}
	out.printf("chat: %s in %s (%s); type a line and Enter to send, Ctrl-D to quit\n", h.node, h.group, h.where)
	if len(past) > 0 {
		out.printf("-- the last %d messages --\n", len(past))
		for _, m := range past {
			out.printf("%s\n", m)
		}
		out.printf("-- now --\n")
	}

	// Each run is a new incarnation. Resuming the stored one would start
	// above its reservation mark (up to 1024 numbers past the last
	// message, for restart safety after a crash), and every peer would
	// fetch the gap and deliver nothing after it until each number is
	// answered as unavailable or given up: seconds of silence after every
	// restart. A new bootstrap time costs one more vector entry, pruned
	// by peers once superseded (svs.Config.SupersededGrace).
	st, err := store.State()
	if err != nil {
		return fmt.Errorf("chat store %s: %w", path, err)
	}
	boot, wait := svs.NewBoot(st.Boot, time.Now())
	if wait > 0 {
		// The clock must pass the second claimed (svs.NewBoot).
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
	if err := ps.add(core.Key{Node: wire.NameToCore(h.node), Boot: boot}); err != nil {
		return fmt.Errorf("chat history: %w", err)
	}
	signer, validator, err := h.signing(h.group, true)
	if err != nil {
		return err
	}
	s, err := svs.New(h.engine, svs.Config{
		Signer:    signer,
		Validator: validator,
		Group:     h.group,
		Node:      h.node,
		Boot:      boot,
		Register:  h.register,
		Logger:    h.log,
		Data: &svs.DataConfig{
			Storage:     store,
			RegisterOwn: h.registerOwn,
			OnMessage: func(m svs.Message) {
				k := core.Key{Node: wire.NameToCore(m.Node), Boot: m.Boot}
				if m.Seq <= shown[k] {
					return // stored before the restart: shown then, and in the history
				}
				if err := ps.add(k); err != nil {
					h.log.Warn("chat: cannot record a member for the history", "member", m.Node, "err", err)
				}
				out.println(fmt.Sprintf("%s: %s", m.Node, printable(m.Bytes())))
			},
			OnMissed: func(m svs.Missed) {
				if m.Reason == "unavailable" {
					// The author says it holds nothing there (a
					// number it skipped): no message was lost.
					h.log.Info("chat: numbers without a message", "member", m.Node, "boot", m.Boot, "low", m.Low, "high", m.High)
					return
				}
				out.println(fmt.Sprintf("[MISSED] %s %d-%d (%s)", m.Node, m.Low, m.High, m.Reason))
			},
		},
	})
	if err != nil {
		return err
	}
	out.start()
	return runAll(ctx, s.Run, func(ctx context.Context) error { return chatInput(ctx, s, stdio.stdin, out) })
}

// chatInput publishes each line typed until stdin ends (Ctrl-D: nil, the
// chat quits) or ctx does.
func chatInput(ctx context.Context, s *svs.Sync, stdin io.Reader, out *chatScreen) error {
	typed := make(chan string)
	readErr := make(chan error, 1)
	// The reader stops at the end of stdin; if ctx ends first it stays
	// blocked in Read until the process exits (a terminal read cannot be
	// interrupted).
	if out.edit {
		go func() {
			r := bufio.NewReader(stdin)
			for {
				c, _, err := r.ReadRune()
				if err != nil {
					readErr <- ignoreEOF(err)
					return
				}
				line, enter, eof := out.key(c)
				switch {
				case eof:
					readErr <- nil
					return
				case !enter:
					continue
				}
				select {
				case typed <- line:
				case <-ctx.Done():
					return
				}
			}
		}()
	} else {
		go func() {
			sc := bufio.NewScanner(stdin)
			sc.Buffer(make([]byte, 4096), maxChatLine)
			for sc.Scan() {
				select {
				case typed <- strings.TrimRight(sc.Text(), "\r"):
				case <-ctx.Done():
					return
				}
			}
			readErr <- sc.Err()
		}()
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			if err != nil {
				return fmt.Errorf("reading the terminal: %w", err)
			}
			return nil
		case text := <-typed:
			if strings.TrimSpace(text) == "" {
				continue
			}
			out.println("YOU: " + printable([]byte(text)))
			if _, err := s.Publish(ctx, []byte(text)); err != nil {
				if errors.Is(err, svs.ErrFaceDown) {
					out.println("[NOT SENT] the node is away; type it again once it is back")
					continue
				}
				return err
			}
		}
	}
}

func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// chatPrompt begins the line being typed, when the chat edits it.
const chatPrompt = "> "

// chatScreen is the chat's output. When the chat edits the line being
// typed (edit: stdin and stdout are a terminal, put in raw mode), that
// line is the screen's last, after chatPrompt, and every line printed goes
// above it, the typed text redrawn below: a message that arrives while a
// line is typed never mixes with it, nor is the typed text lost from
// view. Otherwise lines are printed as they come, plainly.
type chatScreen struct {
	mu    sync.Mutex
	w     io.Writer
	edit  bool
	typed []rune
	size  int // bytes of typed, as UTF-8
	esc   int // an escape sequence (a cursor key) being skipped: 1 after ESC, 2 within
}

// println prints a line above the line being typed.
func (c *chatScreen) println(text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.edit {
		fmt.Fprintf(c.w, "%s\n", text)
		return
	}
	fmt.Fprintf(c.w, "\r\x1b[2K%s\n%s%s", text, chatPrompt, string(c.typed))
}

// printf is println of a formatted line without its newline.
func (c *chatScreen) printf(format string, args ...any) {
	c.println(strings.TrimSuffix(fmt.Sprintf(format, args...), "\n"))
}

// key edits the line being typed with one key and echoes the change. It
// returns the line when Enter completes one that is not blank, and eof
// for Ctrl-D on an empty line. Backspace deletes a character, Ctrl-U the
// line; cursor keys and other controls are ignored.
func (c *chatScreen) key(r rune) (line string, enter, eof bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.esc == 1:
		c.esc = 0
		if r == '[' || r == 'O' {
			c.esc = 2 // CSI or SS3: up to a final byte
		}
	case c.esc == 2:
		if r >= 0x40 && r <= 0x7e {
			c.esc = 0
		}
	case r == 0x1b:
		c.esc = 1
	case r == '\r' || r == '\n':
		line = string(c.typed)
		c.typed, c.size = c.typed[:0], 0
		fmt.Fprintf(c.w, "\r\x1b[2K%s", chatPrompt)
		return line, strings.TrimSpace(line) != "", false
	case r == 0x7f || r == 0x08: // Backspace
		if n := len(c.typed); n > 0 {
			c.size -= utf8.RuneLen(c.typed[n-1])
			c.typed = c.typed[:n-1]
			c.redraw()
		}
	case r == 0x15: // Ctrl-U
		c.typed, c.size = c.typed[:0], 0
		c.redraw()
	case r == 0x04: // Ctrl-D
		if len(c.typed) == 0 {
			fmt.Fprint(c.w, "\r\x1b[2K")
			return "", false, true
		}
	case unicode.IsControl(r) || r == utf8.RuneError:
	case c.size+utf8.RuneLen(r) > maxChatLine:
	default:
		c.typed = append(c.typed, r)
		c.size += utf8.RuneLen(r)
		fmt.Fprint(c.w, string(r))
	}
	return "", false, false
}

func (c *chatScreen) redraw() { fmt.Fprintf(c.w, "\r\x1b[2K%s%s", chatPrompt, string(c.typed)) }

// start shows the prompt, when the chat edits the typed line.
func (c *chatScreen) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.edit {
		c.redraw()
	}
}

// chatMessage is one message of the history.
type chatMessage struct {
	from string // "YOU" or the author's name
	text string
	at   int64 // when the store wrote it, Unix nanoseconds
}

func (m chatMessage) String() string { return m.from + ": " + m.text }

// producers is the list of the incarnations (node, boot) whose
// publications a chat's store may hold, its own included: svs.Storage
// can read a given incarnation's publications but cannot list the
// incarnations, and the saved vector is no list of them either (it drops
// what was not yet delivered, and superseded incarnations are pruned from
// it). It is a file next to the store, one line per incarnation
// ("<boot> <node TLV in hex>"), appended to, never rewritten: a line lost
// in a crash loses history, never a message.
type producers struct {
	mu   sync.Mutex
	path string
	seen map[core.Key]bool
}

// loadProducers reads the list at path (none yet: empty).
func loadProducers(path string) (*producers, error) {
	p := &producers{path: path, seen: map[core.Key]bool{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(b), "\n")
	for _, line := range lines[:len(lines)-1] { // the last one, unterminated, was cut short by a crash
		bootStr, nodeHex, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		boot, err1 := strconv.ParseUint(bootStr, 10, 64)
		node, err2 := hex.DecodeString(nodeHex)
		if err1 != nil || err2 != nil {
			continue
		}
		if n, err := wire.CoreToName(core.Name(node)); err != nil || len(n) == 0 {
			continue
		}
		p.seen[core.Key{Node: core.Name(node), Boot: boot}] = true
	}
	return p, nil
}

// add records k if it is new.
func (p *producers) add(k core.Key) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen[k] {
		return nil
	}
	f, err := os.OpenFile(p.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%d %s\n", k.Boot, hex.EncodeToString([]byte(k.Node)))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		p.seen[k] = true
	}
	return err
}

func (p *producers) keys() []core.Key {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]core.Key, 0, len(p.seen))
	for k := range p.seen {
		out = append(out, k)
	}
	return out
}

// chatHistory reads every message the store holds of the incarnations in
// ps and in the saved vector, and returns the last limit of them, oldest
// first, in the order the store wrote them (when this chat published or
// fetched them), and the highest stored sequence number of each
// incarnation: the member delivers those again after a restart (at least
// once), and they were shown already.
func chatHistory(store svs.Storage, self enc.Name, ps *producers, limit int) ([]chatMessage, map[core.Key]uint64, error) {
	keys := ps.keys()
	st, err := store.State()
	if err != nil {
		return nil, nil, err
	}
	if st.Vector != nil {
		if v, err := wire.DecodeStateVector(st.Vector); err == nil {
			for _, e := range v.Entries() {
				keys = append(keys, core.Key{Node: e.Node, Boot: e.Boot})
			}
		}
	}
	me := wire.NameToCore(self)
	var msgs []chatMessage
	known := map[core.Key]uint64{}
	for _, k := range keys {
		if _, done := known[k]; done {
			continue
		}
		known[k] = 0
		var pubs []svs.Publication
		from := "YOU"
		if k.Node == me {
			pubs, err = store.OwnRange(k.Boot, 1, math.MaxUint64, 0)
		} else {
			pubs, err = store.FetchedRange(k.Node, k.Boot, 1, math.MaxUint64, 0)
			if n, nerr := wire.CoreToName(k.Node); nerr == nil {
				from = n.String()
			}
		}
		if err != nil {
			return nil, nil, err
		}
		for _, p := range pubs {
			known[k] = max(known[k], p.Seq)
			payload, err := publicationPayload(p)
			if err != nil {
				continue // a stored packet that does not decode is no message
			}
			msgs = append(msgs, chatMessage{from: from, text: printable(payload), at: p.Stored.UnixNano()})
		}
	}
	slices.SortStableFunc(msgs, func(a, b chatMessage) int { return cmp.Compare(a.at, b.at) })
	if len(msgs) > limit {
		msgs = msgs[len(msgs)-limit:]
	}
	return msgs, known, nil
}

// publicationPayload reassembles a stored publication's payload from its
// segments (the Content of each Data, in order). svs keeps packets, not
// payloads (docs/storage.md, "What is stored"), and exports no decoder.
func publicationPayload(p svs.Publication) ([]byte, error) {
	var payload []byte
	for _, seg := range p.Segments {
		data, _, err := ndnpkt.Data(seg) // a store on disk may hold anything
		if err != nil {
			return nil, err
		}
		payload = append(payload, data.Content().Join()...)
	}
	return payload, nil
}
