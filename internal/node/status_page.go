package node

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"
)

// The status page's files: a template rendered on the node (so that the
// page shows the node's state without scripts) and the script and style it
// loads from the node itself. Nothing is fetched from elsewhere: the page
// works on a machine with no Internet access, and its Content Security
// Policy allows only the node's own files.
//
//go:embed assets/status.html assets/status.js assets/status.css
var assetFS embed.FS

var statusTemplate = template.Must(template.New("status.html").Funcs(template.FuncMap{
	"ago": ago,
}).ParseFS(assetFS, "assets/status.html"))

// statusCSP lets the page load its script and style from the node and
// fetch /status.json, and nothing else; no inline script can run, so a
// member name that slipped through escaping could still not execute.
const statusCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// pageData is what the status template renders.
type pageData struct {
	Status
	PollMillis int64
}

// ago says how long before now t was, for people: "4.2 s ago", "never".
func ago(now time.Time, t *time.Time) string {
	if t == nil {
		return "never"
	}
	d := now.Sub(*t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%.1f s ago", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h ago", d.Hours())
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// renderPage writes the status page of st. html/template escapes every
// value for its context: member names and face URIs come from the network.
func renderPage(st Status) ([]byte, error) {
	var b bytes.Buffer
	if err := statusTemplate.Execute(&b, pageData{Status: st, PollMillis: statusPollInterval.Milliseconds()}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", statusCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func (s *statusSource) servePage(w http.ResponseWriter, _ *http.Request) {
	b, err := renderPage(s.snapshot())
	if err != nil {
		http.Error(w, "status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	setPageHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b)
}

// assetHandler serves the page's script and style.
func assetHandler() http.Handler {
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		// fs.Sub fails only on an invalid path; "assets" is valid.
		return http.NotFoundHandler()
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "status.html" || r.URL.Path == "" {
			// The template is served rendered, at / and /status.
			http.NotFound(w, r)
			return
		}
		setPageHeaders(w.Header())
		w.Header().Set("Cache-Control", "max-age=300")
		files.ServeHTTP(w, r)
	})
}
