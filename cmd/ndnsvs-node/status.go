package main

// "ndnsvs-node status": what a running node is doing, from the two places
// it tells: its HTTP listener's /status.json (groups, members, Sync
// latency, faces with counters: internal/node's Status) and its unix
// socket's NFD management datasets (faces/list and rib/list, as nfdc reads
// them). Either may be off; the command shows what answers.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	mgmt "github.com/named-data/ndnd/std/ndn/mgmt_2022"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndnsvs/ndnsvs-node/client"
	"github.com/ndnsvs/ndnsvs-node/fw/link"
	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
	"github.com/ndnsvs/ndnsvs-node/internal/node"
)

const statusAbout = `Shows what a running node is doing: its sync groups, every member of each
with its bootstrap time, sequence number and when it was last heard, the
Sync latency, the faces with their counters, and the routes.

It asks the node in two places: its metrics listener (GET /status.json, at
metrics.listen of the configuration, http://127.0.0.1:9363 by default) for
the groups, and its unix socket (the NFD management datasets faces/list and
rib/list, as nfdc reads them) for the faces and routes. --config reads both
addresses from the node's configuration file; without it the defaults are
used, and the socket is found as applications find it (NDN_CLIENT_TRANSPORT,
client.conf, else the node's default socket).

Prints a table, or with -o json one JSON object: {"url", "transport",
"status" (the /status.json object, null when the listener did not answer),
"faces" and "routes" (from the socket, null when it did not answer),
"errors" (what did not answer, and why)}. docs/operations.md describes it.

Exits 0 when at least one of the two answered (what did not is said on
stderr), 1 when neither did (no node runs, or it listens elsewhere), 2 on
bad flags or configuration.`

// statusReport is what "status -o json" prints.
type statusReport struct {
	URL       string        `json:"url"`
	Transport string        `json:"transport"`
	Status    *node.Status  `json:"status"`
	Faces     []statusFace  `json:"faces"`
	Routes    []statusRoute `json:"routes"`
	Errors    []string      `json:"errors"`
}

// statusFace is one entry of the faces/list dataset.
type statusFace struct {
	ID           uint64 `json:"id"`
	Remote       string `json:"remote"`
	Local        string `json:"local"`
	Scope        string `json:"scope"`
	Persistency  string `json:"persistency"`
	LinkType     string `json:"link_type"`
	InInterests  uint64 `json:"in_interests"`
	InData       uint64 `json:"in_data"`
	OutInterests uint64 `json:"out_interests"`
	OutData      uint64 `json:"out_data"`
	InBytes      uint64 `json:"in_bytes"`
	OutBytes     uint64 `json:"out_bytes"`
}

// statusRoute is one route of the rib/list dataset.
type statusRoute struct {
	Prefix string `json:"prefix"`
	Face   uint64 `json:"face"`
	Origin uint64 `json:"origin"`
	Cost   uint64 `json:"cost"`
	Flags  uint64 `json:"flags"`
}

// statusMain runs "ndnsvs-node status" and returns the exit code.
func statusMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		configPath, rawURL, transport, output string
		timeout                               time.Duration
	)
	fs.StringVar(&configPath, "config", "", "the node's configuration `FILE`: its metrics.listen and unix socket are asked")
	fs.StringVar(&rawURL, "url", "", "the node's metrics listener, e.g. http://127.0.0.1:9363 (default: from the configuration); \"none\" to skip it")
	fs.StringVar(&transport, "transport", "", "the node's unix socket, unix:///path (default: from --config, else as applications find it); \"none\" to skip it")
	fs.StringVar(&output, "o", "table", "output `FORMAT`: table or json")
	fs.DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the node's answers")
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "Usage:\n  ndnsvs-node status [FLAGS]\n\n%s\n\nFlags:\n", statusAbout)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return exitOK
		}
		fmt.Fprintf(stderr, "ndnsvs-node status: %v\n\n", err)
		usage(stderr)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ndnsvs-node status: unexpected argument %q\n\n", fs.Arg(0))
		usage(stderr)
		return exitUsage
	}
	if output != "table" && output != "json" {
		fmt.Fprintf(stderr, "ndnsvs-node status: -o %q: want table or json\n", output)
		return exitUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["config"] && configPath == "" {
		fmt.Fprintln(stderr, "ndnsvs-node status: --config: empty file name")
		return exitUsage
	}
	base, sock, err := statusTargets(configPath, rawURL, transport)
	if err != nil {
		fmt.Fprintf(stderr, "ndnsvs-node status: %v\n", err)
		return exitUsage
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := collectStatus(ctx, base, sock)
	if r.Status == nil && r.Faces == nil {
		fmt.Fprintf(stderr, "ndnsvs-node status: no node answers: %s\n", strings.Join(r.Errors, "; "))
		return exitFailure
	}
	for _, e := range r.Errors {
		fmt.Fprintf(stderr, "ndnsvs-node status: %s\n", e)
	}
	if output == "json" {
		e := json.NewEncoder(stdout)
		e.SetIndent("", "  ")
		if err := e.Encode(r); err != nil {
			fmt.Fprintf(stderr, "ndnsvs-node status: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	writeStatusTable(stdout, r)
	return exitOK
}

// statusTargets settles where to ask: the base URL of the metrics listener
// and the unix socket's path, "" for either that is not to be asked.
func statusTargets(configPath, rawURL, transport string) (base, sock string, err error) {
	cfg, err := loadConfig(configPath)
	if err != nil {
		return "", "", err
	}
	switch {
	case rawURL == "none":
	case rawURL != "":
		u, err := url.Parse(rawURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", "", fmt.Errorf("--url %q: want http://HOST:PORT", rawURL)
		}
		base = strings.TrimSuffix(u.String(), "/")
	case cfg.Metrics.Enabled:
		host, port, err := net.SplitHostPort(cfg.Metrics.Listen)
		if err != nil {
			return "", "", fmt.Errorf("metrics.listen %q: %w", cfg.Metrics.Listen, err)
		}
		if port == "0" {
			return "", "", fmt.Errorf("metrics.listen %q picks a free port at each start: give the node's --url (its \"metrics listening\" log line has the address)", cfg.Metrics.Listen)
		}
		// A wildcard listener is reached on loopback.
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			host = "127.0.0.1"
			if ip != nil && ip.To4() == nil {
				host = "::1"
			}
		}
		base = "http://" + net.JoinHostPort(host, port)
	}
	switch {
	case transport == "none":
		return base, "", nil
	case transport == "":
		if configPath != "" {
			if !cfg.Faces.Unix.Enabled {
				return base, "", nil
			}
			transport = cfg.ClientTransport()
		} else {
			transport = client.DefaultTransport()
		}
	}
	path, ok := strings.CutPrefix(transport, "unix://")
	if !ok || !strings.HasPrefix(path, "/") {
		return "", "", fmt.Errorf("transport %q: want unix:///absolute/path (management datasets are answered on the node's local socket only)", transport)
	}
	return base, path, nil
}

// collectStatus asks both places at once.
func collectStatus(ctx context.Context, base, sock string) *statusReport {
	r := &statusReport{Errors: []string{}}
	if base != "" {
		r.URL = base + "/status.json"
	}
	if sock != "" {
		r.Transport = "unix://" + sock
	}
	type answer struct {
		st     *node.Status
		faces  []statusFace
		routes []statusRoute
		err    error
		http   bool
	}
	ch := make(chan answer, 2)
	n := 0
	if base != "" {
		n++
		go func() {
			st, err := fetchStatusJSON(ctx, r.URL)
			ch <- answer{st: st, err: err, http: true}
		}()
	}
	if sock != "" {
		n++
		go func() {
			faces, routes, err := fetchDatasets(ctx, sock)
			ch <- answer{faces: faces, routes: routes, err: err}
		}()
	}
	for range n {
		a := <-ch
		switch {
		case a.http && a.err != nil:
			r.Errors = append(r.Errors, fmt.Sprintf("%s: %v", r.URL, a.err))
		case a.http:
			r.Status = a.st
		case a.err != nil:
			r.Errors = append(r.Errors, fmt.Sprintf("%s: %v", r.Transport, a.err))
		default:
			r.Faces, r.Routes = a.faces, a.routes
		}
	}
	if base == "" {
		r.Errors = append(r.Errors, "metrics listener not asked (off in the configuration, or --url none): no groups shown")
	}
	if sock == "" {
		r.Errors = append(r.Errors, "unix socket not asked (off in the configuration, or --transport none): no routes shown")
	}
	slices.Sort(r.Errors)
	return r
}

// maxStatusBody bounds what is read of /status.json: a node with
// thousands of faces and members stays far below.
const maxStatusBody = 64 << 20

func fetchStatusJSON(ctx context.Context, u string) (*node.Status, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said by the caller
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("HTTP %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	var st node.Status
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxStatusBody)).Decode(&st); err != nil {
		return nil, fmt.Errorf("not a node's status: %w", err)
	}
	if st.Version != node.StatusVersion {
		return nil, fmt.Errorf("status version %d, this program reads %d (a node of another release)", st.Version, node.StatusVersion)
	}
	return &st, nil
}

// fetchDatasets reads faces/list and rib/list on the node's socket.
func fetchDatasets(ctx context.Context, sock string) ([]statusFace, []statusRoute, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err
		}
		return nil, nil, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	defer stop()
	ds := &datasetConn{c: c, r: link.NewStreamReader(c, 0)}

	raw, err := ds.fetch("faces/list")
	if err != nil {
		return nil, nil, err
	}
	fm, err := mgmt.ParseFaceStatusMsg(enc.NewBufferView(raw), true)
	if err != nil {
		return nil, nil, fmt.Errorf("faces/list: %w", err)
	}
	faces := []statusFace{}
	for _, f := range fm.Vals {
		faces = append(faces, statusFace{
			ID: f.FaceId, Remote: f.Uri, Local: f.LocalUri,
			Scope: faceScope(f.FaceScope), Persistency: facePersistency(f.FacePersistency), LinkType: faceLinkType(f.LinkType),
			InInterests: f.NInInterests, InData: f.NInData, OutInterests: f.NOutInterests, OutData: f.NOutData,
			InBytes: f.NInBytes, OutBytes: f.NOutBytes,
		})
	}
	raw, err = ds.fetch("rib/list")
	if err != nil {
		return nil, nil, err
	}
	rs, err := mgmt.ParseRibStatus(enc.NewBufferView(raw), true)
	if err != nil {
		return nil, nil, fmt.Errorf("rib/list: %w", err)
	}
	routes := []statusRoute{}
	for _, e := range rs.Entries {
		for _, rt := range e.Routes {
			routes = append(routes, statusRoute{Prefix: e.Name.String(), Face: rt.FaceId, Origin: rt.Origin, Cost: rt.Cost, Flags: rt.Flags})
		}
	}
	return faces, routes, nil
}

func faceScope(v uint64) string {
	if v == 1 {
		return "local"
	}
	return "non-local"
}

func facePersistency(v uint64) string {
	switch v {
	case 0:
		return "persistent"
	case 1:
		return "on-demand"
	case 2:
		return "permanent"
	}
	return strconv.FormatUint(v, 10)
}

func faceLinkType(v uint64) string {
	switch v {
	case 0:
		return "point-to-point"
	case 1:
		return "multi-access"
	case 2:
		return "ad-hoc"
	}
	return strconv.FormatUint(v, 10)
}

// datasetConn reads NFD status datasets on one connection, one at a time:
// an Interest for /localhost/nfd/<dataset> gets the first segment of a
// new version; the others are asked by name, up to the FinalBlockId.
type datasetConn struct {
	c     net.Conn
	r     *link.StreamReader
	nonce uint32
}

// maxDatasetSegments bounds a dataset: 8000 bytes a segment, 80 MB.
const maxDatasetSegments = 10000

func (d *datasetConn) fetch(dataset string) ([]byte, error) {
	prefix, err := enc.NameFromStr("/localhost/nfd/" + dataset)
	if err != nil {
		return nil, err
	}
	name, content, final, err := d.ask(prefix, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dataset, err)
	}
	if len(name) != len(prefix)+2 || !name.At(-2).IsVersion() || !name.At(-1).IsSegment() || name.At(-1).NumberVal() != 0 {
		return nil, fmt.Errorf("%s: answered with %s, not a first segment of a version", dataset, name)
	}
	out := content
	versioned := name.Prefix(-1)
	for seg := uint64(1); final.IsSet() && seg <= final.Unwrap(); seg++ {
		if seg >= maxDatasetSegments {
			return nil, fmt.Errorf("%s: over %d segments", dataset, maxDatasetSegments)
		}
		_, content, _, err := d.ask(versioned.Append(enc.NewSegmentComponent(seg)), false)
		if err != nil {
			return nil, fmt.Errorf("%s segment %d: %w", dataset, seg, err)
		}
		out = append(out, content...)
	}
	return out, nil
}

// ask sends an Interest for name and returns the Data that answers it:
// its name, content and the segment number of its FinalBlockId.
func (d *datasetConn) ask(name enc.Name, prefix bool) (enc.Name, []byte, optional.Optional[uint64], error) {
	var none optional.Optional[uint64]
	d.nonce++
	intr, err := spec.Spec{}.MakeInterest(name, &ndn.InterestConfig{
		CanBePrefix: prefix,
		MustBeFresh: prefix,
		Lifetime:    optional.Some(4 * time.Second),
		Nonce:       optional.Some(d.nonce ^ uint32(time.Now().UnixNano())),
	}, nil, nil)
	if err != nil {
		return nil, nil, none, err
	}
	if _, err := d.c.Write(intr.Wire.Join()); err != nil {
		return nil, nil, none, err
	}
	for {
		frame, err := d.r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the node closed the connection")
			}
			return nil, nil, none, err
		}
		dname, content, final, ok := parseDatasetData(frame)
		if !ok || !name.IsPrefix(dname) {
			continue // not ours (a Nack, another application's traffic cannot reach this face)
		}
		return dname, content, final, nil
	}
}

// parseDatasetData decodes a Data, bare or in an LpPacket; anything else,
// malformed included, is !ok. ndnpkt keeps ndnd's decoder within the
// frame's bounds.
func parseDatasetData(frame []byte) (name enc.Name, content []byte, final optional.Optional[uint64], ok bool) {
	pkt, _, nack, err := ndnpkt.Read(frame)
	if err != nil || nack != 0 || pkt.Data == nil {
		return nil, nil, final, false
	}
	if fb := pkt.Data.FinalBlockID(); fb.IsSet() && fb.Unwrap().IsSegment() {
		final = optional.Some(fb.Unwrap().NumberVal())
	}
	return pkt.Data.NameV.Clone(), append([]byte(nil), pkt.Data.ContentV.Join()...), final, true
}

// writeStatusTable prints the report for people.
func writeStatusTable(w io.Writer, r *statusReport) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	if st := r.Status; st != nil {
		ready := "ready"
		if !st.Ready {
			ready = "NOT READY: " + strings.Join(st.Problems, "; ")
		}
		fmt.Fprintf(tw, "node %s  %s  build %s  at %s\n", term(st.Node), term(ready), term(st.Build), st.Time.Local().Format(time.DateTime))
		for _, g := range st.Groups {
			fmt.Fprintf(tw, "\ngroup %s  member %s boot %d  phase %s  vector %d of %d bytes  %d published  %d Sync Interests sent, %d received\n",
				term(g.Prefix), term(g.Member), g.Boot, term(g.Phase), g.VectorBytes, g.VectorBudgetBytes, g.Publications, g.SyncInterestsSent, g.SyncInterestsRecvd)
			if l := g.Latency; l != nil {
				fmt.Fprintf(tw, "  Sync latency: %d samples, median %s, p90 %s (%d untimed, %d negative)\n",
					l.Count, latencyQuantile(0.5, l), latencyQuantile(0.9, l), l.Untimed, l.Negative)
			}
			fmt.Fprintln(tw, "  MEMBER\tBOOT\tSEQ\tLAST HEARD\t")
			for _, m := range g.Members {
				name := term(m.Name)
				if m.Self {
					name += " (this node)"
				}
				heard := "never"
				if m.LastHeard != nil {
					heard = fmt.Sprintf("%s ago (%s)", st.Time.Sub(*m.LastHeard).Round(100*time.Millisecond), m.LastHeard.Local().Format(time.TimeOnly))
				}
				fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t\n", name, m.Boot, m.Seq, heard)
			}
			if len(g.Members) == 0 {
				fmt.Fprintln(tw, "  (no member known yet)")
			}
		}
		if len(st.Groups) == 0 {
			fmt.Fprintln(tw, "\n(a member of no group)")
		}
	}
	fmt.Fprintln(tw, "\nFACES")
	fmt.Fprintln(tw, "  ID\tREMOTE\tLOCAL\tSCOPE\tLINK\tINTERESTS IN/OUT\tDATA IN/OUT\tBYTES IN/OUT\t")
	switch {
	case r.Faces != nil:
		for _, f := range r.Faces {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%d/%d\t%d/%d\t%d/%d\t\n", f.ID, term(f.Remote), term(f.Local), f.Scope, f.LinkType,
				f.InInterests, f.OutInterests, f.InData, f.OutData, f.InBytes, f.OutBytes)
		}
	case r.Status != nil:
		for _, f := range r.Status.Faces {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%d/%d\t%d/%d\t%d/%d\t\n", f.ID, term(f.Remote), term(f.Local), term(f.Scope), term(f.LinkType),
				f.InInterests, f.OutInterests, f.InData, f.OutData, f.InBytes, f.OutBytes)
		}
	}
	if r.Routes != nil {
		fmt.Fprintln(tw, "\nROUTES")
		fmt.Fprintln(tw, "  PREFIX\tFACE\tORIGIN\tCOST\tFLAGS\t")
		for _, rt := range r.Routes {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t\n", term(rt.Prefix), rt.Face, rt.Origin, rt.Cost, rt.Flags)
		}
	}
}

// latencyQuantile estimates the q-quantile of a cumulative histogram by
// linear interpolation inside the bucket, as Prometheus's
// histogram_quantile does; "-" without samples, "> B" in the +Inf bucket.
func latencyQuantile(q float64, l *node.LatencyStatus) string {
	if l.Count == 0 {
		return "-"
	}
	rank := q * float64(l.Count)
	lo, below := 0.0, 0.0
	for _, b := range l.Buckets {
		c := float64(b.Count)
		if c >= rank {
			v := b.LE
			if c > below {
				v = lo + (b.LE-lo)*(rank-below)/(c-below)
			}
			return fmtSeconds(v)
		}
		lo, below = b.LE, c
	}
	return "> " + fmtSeconds(lo)
}

func fmtSeconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(10 * time.Microsecond).String()
}

// term makes a string from the network safe to print on a terminal:
// control characters (escape sequences could rewrite the screen) and
// invalid UTF-8 are written as Go escapes.
func term(s string) string {
	ok := true
	for _, r := range s {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	q := strconv.QuoteToGraphic(s)
	return q[1 : len(q)-1]
}
