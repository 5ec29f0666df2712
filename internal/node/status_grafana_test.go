package node

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dashboardPath is the Grafana dashboard docs/operations.md offers.
const dashboardPath = "../../docs/grafana/ndnsvs-node.json"

// dashboardQueries returns every PromQL expression of the dashboard: each
// panel target's, rows' nested panels included, and the metric selector of
// each template variable's label_values query.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string
		Targets []struct{ Expr string }
		Panels  json.RawMessage
	}
	var d struct {
		Panels     []panel
		Templating struct {
			List []struct {
				Name  string
				Query struct{ Query string }
			}
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	var out []string
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("panel %q: a target without a query", p.Title)
				}
				out = append(out, tg.Expr)
			}
			if len(p.Panels) > 0 {
				var nested []panel
				if err := json.Unmarshal(p.Panels, &nested); err != nil {
					t.Fatal(err)
				}
				walk(nested)
			}
		}
	}
	walk(d.Panels)
	labelValues := regexp.MustCompile(`^label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\)$`)
	for _, v := range d.Templating.List {
		m := labelValues.FindStringSubmatch(v.Query.Query)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(SELECTOR, LABEL)", v.Name, v.Query.Query)
			continue
		}
		out = append(out, m[1])
	}
	return out
}

// promqlKeywords are the identifiers of PromQL that are not metric names
// and need not be followed by a parenthesis: operators, modifiers, and
// the aggregations, which may be written "sum by (x) (...)". Functions are
// recognised by the parenthesis.
var promqlKeywords = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "atan2", "inf", "nan",
	"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile"}

// promqlMetricNames returns the metric names expr selects: the identifiers
// left once string literals, label matchers ({...}), ranges ([...]),
// grouping label lists (by (...), on (...), group_left (...)), function
// and aggregation names, keywords and numbers are taken out. It knows
// PromQL well enough for a dashboard's queries, not every corner of it.
func promqlMetricNames(expr string) []string {
	var names []string
	s := expr
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			i = j + 1
		case c == '{' || c == '[':
			end := map[byte]byte{'{': '}', '[': ']'}[c]
			j := i + 1
			for j < len(s) && s[j] != end {
				if s[j] == '"' { // a matcher's value may hold the closing bracket
					for j++; j < len(s) && s[j] != '"'; j++ {
						if s[j] == '\\' {
							j++
						}
					}
				}
				j++
			}
			i = j + 1
		case c >= '0' && c <= '9' || c == '.':
			// A number or a duration (5m, 1h30m, 0x1f, 1e-3).
			j := i
			for j < len(s) && (s[j] == '.' || s[j] >= '0' && s[j] <= '9' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' ||
				(s[j] == '-' || s[j] == '+') && (s[j-1] == 'e' || s[j-1] == 'E')) {
				j++
			}
			i = j
		case c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == ':' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			word := s[i:j]
			k := j
			for k < len(s) && s[k] == ' ' {
				k++
			}
			paren := k < len(s) && s[k] == '('
			switch {
			case slices.Contains([]string{"by", "without", "on", "ignoring", "group_left", "group_right"}, word) && paren:
				// A list of label names, not metrics.
				for k < len(s) && s[k] != ')' {
					k++
				}
				j = k + 1
			case paren, slices.Contains(promqlKeywords, strings.ToLower(word)):
			default:
				names = append(names, word)
			}
			i = j
		default:
			i++
		}
	}
	return names
}

func TestPromQLMetricNames(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`rate(a_total{x="}", y=~"$v"}[5m])`, []string{"a_total"}},
		{`histogram_quantile(0.5, sum by (group, le) (rate(h_bucket{g="a"}[$__rate_interval])))`, []string{"h_bucket"}},
		{`sum by (face) (rate(b{direction="in"}[1m])) * on (instance, face) group_left (remote) info`, []string{"b", "info"}},
		{`x > bool 2 and y offset 5m`, []string{"x", "y"}},
		{`a * 1e-3 + b2 / 0.5 - c[1h30m:1m]`, []string{"a", "b2", "c"}},
		{`sum without(le) (z) / ignoring(a) w`, []string{"z", "w"}},
		{`label_replace(m, "dst", "$1", "src", "(.*)")`, []string{"m"}},
	} {
		if got := promqlMetricNames(c.expr); !slices.Equal(got, c.want) {
			t.Errorf("promqlMetricNames(%q) = %q, want %q", c.expr, got, c.want)
		}
	}
}

// sampleNames returns the names of the samples of a Prometheus text page.
func sampleNames(page string) map[string]bool {
	out := map[string]bool{}
	for _, l := range strings.Split(page, "\n") {
		if l == "" || l[0] == '#' {
			continue
		}
		if i := strings.IndexAny(l, "{ "); i > 0 {
			out[l[:i]] = true
		}
	}
	return out
}

// checkDashboard checks that every query of the Grafana dashboard selects
// at least one metric and only metrics on the node's /metrics page.
func checkDashboard(t *testing.T, metricsPage string) {
	t.Helper()
	have := sampleNames(metricsPage)
	queries := dashboardQueries(t)
	if len(queries) < 10 {
		t.Fatalf("only %d queries in %s", len(queries), dashboardPath)
	}
	used := map[string]bool{}
	for _, q := range queries {
		names := promqlMetricNames(q)
		if len(names) == 0 {
			t.Errorf("query %q selects no metric", q)
		}
		for _, n := range names {
			used[n] = true
			if !have[n] {
				t.Errorf("query %q: metric %s is not on the node's /metrics page", q, n)
			}
		}
	}
	t.Logf("%d dashboard queries use %d metrics, all on /metrics", len(queries), len(used))
}

// operationsPath is the operator's guide, whose Prometheus examples are
// checked here.
const operationsPath = "../../docs/operations.md"

// operationsYAML returns the YAML blocks of docs/operations.md whose first
// line is "# <file name>", by file name.
func operationsYAML(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(operationsPath)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile("(?s)```yaml\n# ([a-z0-9.-]+\\.yml)\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = m[2]
	}
	for _, f := range []string{"prometheus.yml", "ndnsvs-rules.yml"} {
		if out[f] == "" {
			t.Fatalf("%s has no yaml block for %s", operationsPath, f)
		}
	}
	return out
}

// The scrape configuration and the alerting rules of docs/operations.md
// are what Prometheus accepts: promtool checks the configuration and the
// rule file it names.
func TestOperationsPrometheusExamples(t *testing.T) {
	files := operationsYAML(t)
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("skipped: promtool is not installed (apt-get install prometheus)")
	}
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(promtool, "check", "config", "prometheus.yml")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS: 5 rules found") {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	t.Logf("promtool check config:\n%s", out)
}

// checkRules checks that every metric the alerting rules of
// docs/operations.md name is on the node's /metrics page, but up, which is
// Prometheus's own.
func checkRules(t *testing.T, metricsPage string) {
	t.Helper()
	have := sampleNames(metricsPage)
	have["up"] = true
	exprs := regexp.MustCompile(`(?m)^\s+expr: (.*)$`).FindAllStringSubmatch(operationsYAML(t)["ndnsvs-rules.yml"], -1)
	if len(exprs) == 0 {
		t.Fatal("no rule expressions")
	}
	for _, e := range exprs {
		for _, n := range promqlMetricNames(e[1]) {
			if !have[n] {
				t.Errorf("rule %q: metric %s is not on the node's /metrics page", e[1], n)
			}
		}
	}
}
