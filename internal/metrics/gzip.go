package metrics

import (
	"compress/gzip"
	"net/http"
	"strings"
	"sync"
)

// gzipPool holds writers at gzip.BestSpeed. A /metrics page of hundreds
// of faces is over 100 KB of repetitive text: BestSpeed makes it about as
// small as the default level does (a twelfth of its size), in a third of
// the time, which was a quarter of a scrape (promhttp compresses at the
// default level, and offers no other).
var gzipPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level: no error
	return w
}}

// withGzip compresses h's responses for clients that accept gzip.
func withGzip(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		if !acceptsGzip(r.Header.Values("Accept-Encoding")) {
			h.ServeHTTP(w, r)
			return
		}
		gz := gzipPool.Get().(*gzip.Writer)
		defer gzipPool.Put(gz)
		gz.Reset(w)
		w.Header().Set("Content-Encoding", "gzip")
		h.ServeHTTP(gzipWriter{ResponseWriter: w, gz: gz}, r)
		_ = gz.Close() // an error is the client's connection: nothing to do
	})
}

// acceptsGzip reports whether an Accept-Encoding header lists gzip with a
// non-zero quality.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// gzipWriter sends what is written through gz. The headers promhttp sets
// (Content-Type) go out as they are; Content-Length, which would be the
// uncompressed length, is never set by promhttp.
type gzipWriter struct {
	http.ResponseWriter
	gz *gzip.Writer
}

func (w gzipWriter) Write(b []byte) (int, error) { return w.gz.Write(b) }
