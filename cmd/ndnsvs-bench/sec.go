package main

// The sec subcommand: what signing and validating the State Vector Data
// costs our SVS driver, per signer, side by side in one run. Each
// measurement is a fresh child process (one forwarder per process) running
// N members on bare in-process faces, as the node does, each with a
// security.Trust that signs every Sync Interest it sends and validates
// every one it receives: Ed25519 and ECDSA P-256 (chain mode, certificates
// fetched from each other through the forwarder during the warm-up), HMAC
// (one shared key) and DigestSha256, the baseline, which every ratio
// column divides by.
//
// Usage: ndnsvs-bench sec [-members 3,20] [-signers ed25519,ecdsa,hmac,digest] [-pubs 500] [-interval 20ms] [-runs 2]

import (
	"context"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sec "github.com/named-data/ndnd/std/security"
	"github.com/named-data/ndnd/std/security/signer"

	"github.com/ndnsvs/ndnsvs-node/fw"
	"github.com/ndnsvs/ndnsvs-node/internal/ndnpkt"
	"github.com/ndnsvs/ndnsvs-node/security"
	"github.com/ndnsvs/ndnsvs-node/security/lvs"
	"github.com/ndnsvs/ndnsvs-node/svs"
	"github.com/ndnsvs/ndnsvs-node/svs/wire"
)

// secSigners are the signers measured, in the order of the report; digest
// is the baseline.
var secSigners = []string{"ed25519", "ecdsa", "hmac", "digest"}

// secWhat says in a few words what each signer is.
var secWhat = map[string]string{
	"ed25519": "Ed25519, certificate chain",
	"ecdsa":   "ECDSA P-256, certificate chain",
	"hmac":    "HMAC-SHA256, shared key",
	"digest":  "DigestSha256, integrity only",
}

// secResult is what a sec child reports: the svs measurement and the
// trust's counters over the measured phase, summed over the members.
type secResult struct {
	svsResult
	// Accepted counts State Vector Data the members' trusts accepted,
	// Rejected those they refused, Fetches the certificate fetches started,
	// during the measured phase: after the warm-up, every vector should be
	// accepted without a fetch.
	Accepted uint64 `json:"accepted"`
	Rejected uint64 `json:"rejected"`
	Fetches  uint64 `json:"fetches"`
	// WarmFetches counts the certificate fetches before it (the warm-up):
	// N·(N-1) in chain mode, each member fetching every other's once.
	WarmFetches uint64 `json:"warm_fetches"`
}

// benchSec runs the sec subcommand with its flags in args and writes the
// report to out.
func benchSec(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("sec", flag.ContinueOnError)
	var o svsOptions
	members := fs.String("members", "3,20", "group sizes, comma-separated")
	signers := fs.String("signers", strings.Join(secSigners, ","), "signers, comma-separated (digest is the baseline of the ratios)")
	fs.IntVar(&o.pubs, "pubs", 500, "measured publications per run, rotating over the members")
	fs.DurationVar(&o.interval, "interval", 20*time.Millisecond, "time between publications")
	fs.IntVar(&o.runs, "runs", 2, "runs of every configuration, interleaved, each in fresh processes")
	fs.DurationVar(&o.settle, "settle", 300*time.Millisecond, "quiet time before and after the measured phase")
	fs.StringVar(&o.child, "child", "", "internal: measure one signer and print its result")
	fs.IntVar(&o.n, "n", 3, "internal: group size of a child")
	fs.StringVar(&o.profile, "cpuprofile", "", "internal: write a child's CPU profile of the measured phase to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, f := range strings.Split(*members, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 2 {
			return fmt.Errorf("sec: -members: %q is not a group size of at least 2", f)
		}
		o.members = append(o.members, n)
	}
	var sgs []string
	for _, s := range strings.Split(*signers, ",") {
		s = strings.TrimSpace(s)
		if _, ok := secWhat[s]; !ok {
			return fmt.Errorf("sec: -signers: unknown signer %q (want some of %s)", s, strings.Join(secSigners, ","))
		}
		sgs = append(sgs, s)
	}
	if o.pubs < 1 || o.runs < 1 || o.interval <= 0 {
		return errors.New("sec: -pubs, -runs and -interval must be positive")
	}
	if o.child != "" {
		if _, ok := secWhat[o.child]; !ok {
			return fmt.Errorf("sec: unknown child %q", o.child)
		}
		return secChild(o, out)
	}
	return secParent(o, sgs, out)
}

func secParent(o svsOptions, signers []string, out io.Writer) error {
	began := time.Now()
	fmt.Fprintf(out, "ndnsvs-bench sec  (%s %s/%s, %d CPUs, GOMAXPROCS %d, %s)\n", runtime.Version(), runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), runtime.GOMAXPROCS(0), time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(out, "publish-to-learn with every State Vector Data signed and validated: %d publications %v apart, publishers\n", o.pubs, o.interval)
	fmt.Fprintf(out, "rotating; our driver on bare in-process faces, one forwarder (multicast on the group) per child process;\n")
	fmt.Fprintf(out, "certificates fetched through the forwarder during the warm-up, before the measured phase; %d run(s), interleaved\n\n", o.runs)

	results := map[string][]secResult{}
	key := func(sg string, n int) string { return fmt.Sprintf("%s/%d", sg, n) }
	children := o.runs * len(o.members) * len(signers)
	child := 0
	for run := range o.runs {
		for _, n := range o.members {
			// Rotate the order each run, so that no signer always runs
			// first (or right after the same neighbour).
			order := append(append([]string(nil), signers[run%len(signers):]...), signers[:run%len(signers)]...)
			for _, sg := range order {
				child++
				ph := startPhase(fmt.Sprintf("sec %d/%d", child, children), "run %d/%d, %s (%s), %d members: publish-to-learn latency and CPU of %d publications %v apart, in a fresh process (about %v)",
					run+1, o.runs, sg, secWhat[sg], n, o.pubs, o.interval, (time.Duration(o.pubs)*o.interval + 2*o.settle).Round(time.Second))
				r, err := runLatencyChild[secResult]("sec", o, sg, n, 90*time.Second)
				if err != nil {
					return err
				}
				ph.done()
				results[key(sg, n)] = append(results[key(sg, n)], r)
			}
		}
	}

	fmt.Fprintln(out, "all-learned: time until every other member's callback has the publication (µs); member: each single delivery.")
	fmt.Fprintln(out, "CPU/SI = getrusage user+sys of the whole process (forwarder, N members, signing and validating) per Sync")
	fmt.Fprintln(out, "Interest delivered to a member (µs). ×digest = the signer's figure over DigestSha256's, same N. Latencies pooled")
	fmt.Fprintln(out, "over runs, CPU the mean of runs. other = CPU of other processes during the phase, in cores (max over runs):")
	fmt.Fprintln(out, "above ~0.1 the run was disturbed. accepted/SI = vectors validated per Sync Interest delivered (1.00: every")
	fmt.Fprintln(out, "one checked, none refused); fetches = certificate fetches during the measured phase, warm-up = before it (summed")
	fmt.Fprintln(out, "over members and runs; chain mode: N·(N-1) per run, nothing preloaded).")
	fmt.Fprintln(out)
	fmt.Fprintln(out, "| N | signer | median | p99 | member median | CPU/SI | median ×digest | p99 ×digest | CPU/SI ×digest | accepted/SI | refused | fetches | warm-up | missed | other |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	us := func(v int64) string {
		if v < 0 {
			return "-"
		}
		return strconv.FormatInt(v, 10)
	}
	type pooled struct {
		all, member quantile
		cpuSI       float64
	}
	for _, n := range o.members {
		pool := map[string]pooled{}
		for _, sg := range signers {
			var all, member []int64
			var cpu []float64
			for _, r := range results[key(sg, n)] {
				all = append(all, r.AllUs...)
				member = append(member, r.MemberUs...)
				if recv := r.OutPerPub * float64(r.Pubs); recv > 0 {
					cpu = append(cpu, r.CPUPerPub*float64(r.Pubs)/recv)
				}
			}
			pool[sg] = pooled{all: quantiles(all), member: quantiles(member), cpuSI: meanF(cpu)}
		}
		base, hasBase := pool["digest"]
		for _, sg := range signers {
			p := pool[sg]
			var accepted, recv float64
			var refused, fetches, warm uint64
			missed, other := 0, 0.0
			for _, r := range results[key(sg, n)] {
				accepted += float64(r.Accepted)
				recv += r.OutPerPub * float64(r.Pubs)
				refused += r.Rejected
				fetches += r.Fetches
				warm += r.WarmFetches
				missed += r.Missed
				other = max(other, r.OtherLoad)
			}
			rm, rp, rc := "-", "-", "-"
			if hasBase {
				rm = fmt.Sprintf("%.2f", ratio(p.all.p50, base.all.p50))
				rp = fmt.Sprintf("%.2f", ratio(p.all.p99, base.all.p99))
				if base.cpuSI > 0 {
					rc = fmt.Sprintf("%.2f", p.cpuSI/base.cpuSI)
				}
			}
			acc := 0.0
			if recv > 0 {
				acc = accepted / recv
			}
			fmt.Fprintf(out, "| %d | %s | %s | %s | %s | %.1f | %s | %s | %s | %.2f | %d | %d | %d | %d | %.2f |\n", n, sg,
				us(p.all.p50), us(p.all.p99), us(p.member.p50), p.cpuSI, rm, rp, rc, acc, refused, fetches, warm, missed, other)
		}
	}
	fmt.Fprintf(out, "\n(total %v)\n", time.Since(began).Round(time.Second))
	return nil
}

// ---- child side ----

// secGroup is the sync group of every sec child, and the prefix of the
// members' identities (/<group>/m/<i>) under its schema.
const secGroup = "/bench/sec"

// secSchema lets a member certificate /<g>/m/<i>/KEY/... issued by the
// root /<g>/KEY/... sign the group's State Vector Data, as a deployed
// group's schema would (see internal/secinterop).
const secSchema = `#g: "bench"/"sec"
#svdata: #g <= #member
#member: #g/"m"/node/#KEY <= #root
#root: #g/#KEY
#KEY: "KEY"/_/_/_
`

func secChild(o svsOptions, out io.Writer) error {
	// As svsChild: the process ends right after the result.
	fwd, group, err := benchForwarder(secGroup)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ndnsvs-bench-sec")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	trusts, err := secTrusts(o.child, o.n, group, dir)
	if err != nil {
		return err
	}
	// Every member's certificate application is up before any member
	// sends: a fetch nobody answers would be refused for a while.
	for _, tr := range trusts {
		if tr.Mode() != security.ModeChain {
			continue
		}
		if err := secCertApp(fwd, tr); err != nil {
			return err
		}
	}
	if err := secPrefetch(trusts, group); err != nil {
		return err
	}

	n := o.n
	rec := newRecorder(n, o.pubs)
	names, index := benchNames(n)
	members := make([]publisher, n)
	for i := range n {
		face, err := fwd.NewFace()
		if err != nil {
			return err
		}
		sg, err := trusts[i].Signer(group)
		if err != nil {
			return err
		}
		registered := make(chan error, 1)
		s, err := svs.NewOnFace(face, svs.Config{
			Group:     group,
			Node:      names[i],
			Signer:    sg,
			Validator: trusts[i],
			OnUpdate: func(u svs.Update) {
				p, ok := index[lastNameComponent(string(u.Node))]
				if !ok {
					p = -1
				}
				rec.deliver(i, p, u.Low, u.High)
			},
			Register: func(prefix enc.Name) error {
				err := fwd.AddRoute(prefix, face.FaceID(), 0, fw.OriginApp)
				registered <- err
				return err
			},
		})
		if err != nil {
			return err
		}
		go func() { _ = s.Run(context.Background()) }()
		if err := <-registered; err != nil {
			return err
		}
		members[i] = oursMember{s}
	}

	// Warm-up as in svsChildSync (the certificates are already fetched).
	if err := warmUp(o, members, rec, 20*time.Second); err != nil {
		var b strings.Builder
		for i, tr := range trusts {
			fmt.Fprintf(&b, "\n  member %d: %+v", i, tr.Stats())
		}
		return fmt.Errorf("sec: %s N=%d: %w:%s", o.child, n, err, b.String())
	}

	sum := func() (acc, rej, fetches uint64) {
		for _, tr := range trusts {
			st := tr.Stats()
			acc += st.Accepted
			fetches += st.FetchesStarted
			for _, v := range st.Rejected {
				rej += v
			}
		}
		return
	}
	acc0, rej0, f0 := sum()
	stop, err := startProfiles(o.profile, "")
	if err != nil {
		return err
	}
	r, err := measurePhase(o, rec, fwd, func(k int) error {
		seq, err := members[k%n].publish()
		if err != nil {
			return err
		}
		if want := uint64(k/n + 2); seq != want {
			return fmt.Errorf("sec: %s member %d published seq %d, want %d", o.child, k%n, seq, want)
		}
		return nil
	})
	stop()
	if err != nil {
		return err
	}
	acc1, rej1, f1 := sum()
	res := secResult{svsResult: r, Accepted: acc1 - acc0, Rejected: rej1 - rej0, Fetches: f1 - f0, WarmFetches: f0}
	return writeResult(out, res)
}

// secPrefetch makes every chain-mode trust fetch every other member's
// certificate, as the first vectors would, before anything is measured:
// each validates a State Vector Data signed by each other member until it
// is accepted, waiting on the fetch (the PendingError's Ready) and, if the
// fetch went unanswered, for the negative cache's first interval (1 s),
// a few times. A first vector refused for a lost fetch would otherwise
// wait for the sender's next Sync Interest, which may come after the
// warm-up's deadline.
func secPrefetch(trusts []*security.Trust, group enc.Name) error {
	if len(trusts) == 0 || trusts[0].Mode() != security.ModeChain {
		return nil
	}
	name := group.Append(enc.NewVersionComponent(3))
	type sample struct {
		data    ndn.Data
		covered enc.Wire
	}
	samples := make([]sample, len(trusts))
	for j, tr := range trusts {
		sg, err := tr.Signer(group)
		if err != nil {
			return err
		}
		d, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{}, enc.Wire{[]byte{0xc9, 0}}, sg)
		if err != nil {
			return err
		}
		data, covered, err := ndnpkt.Data(d.Wire.Join())
		if err != nil {
			return err
		}
		samples[j] = sample{data, covered}
	}
	for i, tr := range trusts {
		for j, smp := range samples {
			if i == j {
				continue
			}
			for attempt := 0; ; attempt++ {
				err := tr.Validate(smp.data, smp.covered)
				if err == nil {
					break
				}
				var pe *wire.PendingError
				if errors.As(err, &pe) {
					select {
					case <-pe.Ready:
					case <-time.After(security.DefaultFetchTimeout):
						return fmt.Errorf("sec: member %d: fetching member %d's certificate: no end after %v", i, j, security.DefaultFetchTimeout)
					}
					continue
				}
				if attempt == 5 {
					return fmt.Errorf("sec: member %d refuses member %d's vectors: %w", i, j, err)
				}
				time.Sleep(time.Second + 100*time.Millisecond)
			}
		}
	}
	return nil
}

// secTrusts makes the n members' trusts for signer sg: for the chain
// signers a root and a key and certificate per member, written as the PEM
// files `ndnd sec keygen` and `sign-cert` write (security.New reads
// files only), in dir.
func secTrusts(sg string, n int, group enc.Name, dir string) ([]*security.Trust, error) {
	trusts := make([]*security.Trust, n)
	switch sg {
	case "digest":
		for i := range trusts {
			tr, err := security.New(security.Config{Signer: "digest"})
			if err != nil {
				return nil, err
			}
			trusts[i] = tr
		}
		return trusts, nil
	case "hmac":
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		for i := range trusts {
			tr, err := security.New(security.Config{Signer: "hmac", HMACKey: key})
			if err != nil {
				return nil, err
			}
			trusts[i] = tr
		}
		return trusts, nil
	}
	schema, err := lvs.Load([]byte(secSchema))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	nb, na := now.Add(-time.Minute), now.Add(time.Hour)
	root, err := signer.KeygenEd25519(sec.MakeKeyName(group))
	if err != nil {
		return nil, err
	}
	rootCert, err := sec.SelfSign(sec.SignCertArgs{Signer: root, NotBefore: nb, NotAfter: na})
	if err != nil {
		return nil, err
	}
	rootFile := filepath.Join(dir, "root.cert")
	if err := writePEMFile(rootFile, rootCert.Join()); err != nil {
		return nil, err
	}
	for i := range trusts {
		id := group.Append(enc.NewGenericComponent("m"), enc.NewGenericComponent(strconv.Itoa(i)))
		var k ndn.Signer
		if sg == "ecdsa" {
			k, err = signer.KeygenEcc(sec.MakeKeyName(id), elliptic.P256())
		} else {
			k, err = signer.KeygenEd25519(sec.MakeKeyName(id))
		}
		if err != nil {
			return nil, err
		}
		secret, err := signer.MarshalSecretToData(k)
		if err != nil {
			return nil, err
		}
		cert, err := sec.SignCert(sec.SignCertArgs{Signer: root, Data: secret, IssuerId: enc.NewGenericComponent("root"), NotBefore: nb, NotAfter: na})
		if err != nil {
			return nil, err
		}
		sw, err := signer.MarshalSecret(k)
		if err != nil {
			return nil, err
		}
		keyFile, certFile := filepath.Join(dir, fmt.Sprintf("m%d.key", i)), filepath.Join(dir, fmt.Sprintf("m%d.cert", i))
		if err := writePEMFile(keyFile, sw.Join()); err != nil {
			return nil, err
		}
		if err := writePEMFile(certFile, cert.Join()); err != nil {
			return nil, err
		}
		tr, err := security.New(security.Config{
			Signer:    sg,
			KeyFiles:  []string{keyFile, certFile},
			Anchors:   []string{rootFile},
			Schema:    schema,
			SignNames: []enc.Name{group.Append(enc.NewVersionComponent(3))},
		})
		if err != nil {
			return nil, err
		}
		trusts[i] = tr
	}
	return trusts, nil
}

func writePEMFile(path string, raw []byte) error {
	p, err := sec.PemEncode(raw)
	if err != nil {
		return err
	}
	return os.WriteFile(path, p, 0o600)
}

// secCertApp gives a member a certificate application, as the node's:
// an ndnd engine on a face of its own that answers Interests for the
// member's certificate (its key name routed there with Capture) and
// fetches the others' for the trust (security.Serve).
func secCertApp(fwd *fw.Forwarder, tr *security.Trust) error {
	face, err := fwd.NewFace()
	if err != nil {
		return err
	}
	e := engine.NewBasicEngine(face)
	if err := e.Start(); err != nil {
		return err
	}
	_, err = security.Serve(e, tr, func(key enc.Name) error {
		return fwd.AddCaptureRoute(key, face.FaceID(), 0, fw.OriginApp)
	})
	return err
}
