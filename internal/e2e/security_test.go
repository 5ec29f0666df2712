package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ndnsvs/ndnsvs-node/internal/netlab"
)

// groupSchema is the trust schema of the secured group /g: members
// /g/m/<name> certified by the anchor /g sign the group's State Vector Data
// and their own publications only (the pattern variable name binds the
// publication's node to the certificate's).
const groupSchema = `#KEY: "KEY"/_/_/_
#root: "g"/#KEY
#member: "g"/"m"/name/#KEY <= #root
#svdata: "g" <= #member
#shared: "g"/"g"/"m"/name/_/_ <= #member
#own: "g"/"m"/name/"g"/_/_ <= #member
#health: "g"/"health" <= #member
`

// guestSchema is what the fourth member believes: guests /g/guest/<name>
// may sign too. Its certificate is issued by the same anchor, so its chain
// is valid: only the group's schema keeps it out.
const guestSchema = `#KEY: "KEY"/_/_/_
#root: "g"/#KEY
#guest: "g"/"guest"/name/#KEY <= #root
#svdata: "g" <= #guest
#shared: "g"/"g"/"guest"/name/_/_ <= #guest
#own: "g"/"guest"/name/"g"/_/_ <= #guest
`

// securedCount runs "ndnsvs-node count" as member name of /g in ns, on a
// forwarder of its own signing with the key of name (made by keygen in
// dir) of type signer under schema, its metrics on the namespace's own loopback.
func securedCount(t *testing.T, ns, dir, name, signer, schema string) *appProc {
	t.Helper()
	id := strings.ReplaceAll(strings.TrimPrefix(name, "/"), "/", "-")
	schemaPath := filepath.Join(dir, id+".lvs")
	cfgPath := filepath.Join(dir, id+".toml")
	cfg := fmt.Sprintf(`[node]
state_dir = %q
[faces.unix]
enabled = false
[metrics]
enabled = true
listen = "127.0.0.1:9363"
[security]
signer = %q
keys = [%q, %q]
anchors = [%q]
schema = %q
`, filepath.Join(dir, "state-"+id), signer, filepath.Join(dir, id+".key"), filepath.Join(dir, id+".cert"), filepath.Join(dir, "g.cert"), schemaPath)
	for path, body := range map[string]string{schemaPath: schema, cfgPath: cfg} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return startAppProc(t, ns, name, "count", "-n", name, "-gp", "/g", "-i", "0.3", "-attach", "no", "-config", cfgPath)
}

// waitCount waits until p has printed a count of at least n from member
// (a count lost while the group started, its certificate not yet fetched,
// is reported missed and does not hold the others back).
func (p *appProc) waitCount(member string, n int, timeout time.Duration) {
	p.t.Helper()
	re := regexp.MustCompile("(?m)^" + regexp.QuoteMeta(member) + `: (\d+)$`)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		for _, m := range re.FindAllStringSubmatch(p.stdout(), -1) {
			if v, _ := strconv.Atoi(m[1]); v >= n {
				return
			}
		}
		select {
		case <-p.changed:
		case <-p.exited:
			p.t.Fatalf("%s exited before printing %s: %d or more\nstdout:\n%s\nstderr:\n%s", p.name, member, n, p.stdout(), p.stderr())
		case <-deadline.C:
			p.t.Fatalf("%s: no count of %d or more from %s within %v\nstdout:\n%s\nstderr:\n%s", p.name, n, member, timeout, p.stdout(), p.stderr())
		}
	}
}

// securityMetrics reads the ndnsvs_security_* series of the app in ns.
func securityMetrics(t *testing.T, ns string) map[string]float64 {
	t.Helper()
	_, text := httpText(t, netlab.HTTPClient(ns), "http://127.0.0.1:9363/metrics")
	out := map[string]float64{}
	re := regexp.MustCompile(`^(ndnsvs_security_[a-z_]+(?:\{[^}]*\})?) (\S+)$`)
	for _, line := range strings.Split(text, "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			v, err := strconv.ParseFloat(m[2], 64)
			if err == nil {
				out[m[1]] = v
			}
		}
	}
	return out
}

// A secured group of four members in four network namespaces on one
// bridge, found by multicast: three hold keys the group's schema allows,
// the fourth a key from the same anchor that the schema does not. The three
// learn each other's counts (fetched and validated publications, their
// certificates fetched over the network), never the fourth's: all of its
// vectors are refused by all three, counted under "schema".
func TestSecuredGroupRefusesAKeyOutsideTheSchema(t *testing.T) {
	l := newLAN(t, 4)
	bin, _ := binaries(t)
	dir := t.TempDir()
	for _, args := range [][]string{
		{"keygen", "-o", dir, "/g"},
		{"keygen", "-o", dir, "-issuer", filepath.Join(dir, "g.key"), "/g/m/alice"},
		{"keygen", "-o", dir, "-issuer", filepath.Join(dir, "g.key"), "-type", "ecdsa", "/g/m/bob"},
		{"keygen", "-o", dir, "-issuer", filepath.Join(dir, "g.key"), "/g/m/carol"},
		{"keygen", "-o", dir, "-issuer", filepath.Join(dir, "g.key"), "/g/guest/eve"},
	} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	members := []string{"/g/m/alice", "/g/m/bob", "/g/m/carol"}
	signers := []string{"ed25519", "ecdsa", "ed25519"}
	var apps []*appProc
	for i, m := range members {
		apps = append(apps, securedCount(t, l.hosts[i], dir, m, signers[i], groupSchema))
	}
	eve := securedCount(t, l.hosts[3], dir, "/g/guest/eve", "ed25519", guestSchema)
	t.Cleanup(func() {
		if t.Failed() {
			for i, m := range members {
				t.Logf("%s: %v", m, securityMetrics(t, l.hosts[i]))
			}
		}
	})
	for i, p := range apps {
		for j, other := range members {
			if i != j {
				p.waitCount(other, 5, 30*time.Second)
			}
		}
	}
	eve.waitFor("YOU: 5\n", 30*time.Second)
	for i, p := range apps {
		if strings.Contains(p.stdout(), "/g/guest/eve") {
			t.Errorf("%s printed the outsider's counts:\n%s", members[i], p.stdout())
		}
		m := securityMetrics(t, l.hosts[i])
		t.Logf("%s: %v", members[i], m)
		if m[`ndnsvs_security_rejected_total{reason="schema"}`] < 1 {
			t.Errorf("%s refused nothing under \"schema\": %v", members[i], m)
		}
		if m[`ndnsvs_security_accepted_total`] < 1 || m[`ndnsvs_security_cert_fetches_total{result="succeeded"}`] < 2 {
			t.Errorf("%s: want packets accepted and the two others' certificates fetched: %v", members[i], m)
		}
		// The outsider is refused under schema; unknown_key may count the
		// vectors of a member whose certificate's first fetch went
		// unanswered while the group started (fetched again within
		// seconds); nothing else is refused.
		for k, v := range m {
			if strings.HasPrefix(k, "ndnsvs_security_rejected_total") && !strings.Contains(k, `"schema"`) && !strings.Contains(k, `"unknown_key"`) && v > 0 {
				t.Errorf("%s: %s = %v: only the outsider should be refused, under schema", members[i], k, v)
			}
		}
	}
}
