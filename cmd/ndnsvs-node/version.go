package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version, when set at build time (-ldflags "-X main.version=v1.2.3"),
// wins over what the build recorded.
var version string

// versionInfo is what the binary knows about its own build.
type versionInfo struct {
	module   string // the main module's version, "" for (devel)
	revision string // VCS revision
	time     string // VCS commit time
	modified bool   // the tree had uncommitted changes
	ndnd     string
	goVer    string
}

func buildVersion() versionInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return versionFrom(nil)
	}
	return versionFrom(bi)
}

// versionFrom reads a build's information: go build and go install record
// the module version (a pseudo-version from the VCS since Go 1.24) and the
// vcs.* settings; go run and go test record neither, and neither does a
// build with -buildvcs=false or from a tree without its .git.
func versionFrom(bi *debug.BuildInfo) versionInfo {
	v := versionInfo{goVer: runtime.Version()}
	if bi == nil {
		return v
	}
	if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v.module = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.revision = s.Value
		case "vcs.time":
			v.time = s.Value
		case "vcs.modified":
			v.modified = s.Value == "true"
		}
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/named-data/ndnd" {
			v.ndnd = d.Version
			if d.Replace != nil {
				v.ndnd += " => " + d.Replace.Path + " " + d.Replace.Version
			}
		}
	}
	if bi.GoVersion != "" {
		v.goVer = bi.GoVersion
	}
	return v
}

// short is the one-word version for logs: the -X version, else the module
// version, else the revision's first 12 digits (with -modified), else dev.
func (v versionInfo) short() string {
	switch {
	case version != "":
		return version
	case v.module != "":
		return v.module
	case v.revision != "":
		r := v.revision[:min(12, len(v.revision))]
		if v.modified {
			r += "-modified"
		}
		return r
	}
	return "dev"
}

// long is what version and --version print.
func (v versionInfo) long() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ndnsvs-node %s\n", v.short())
	if v.revision != "" {
		fmt.Fprintf(&b, "  revision: %s", v.revision)
		var extra []string
		if v.time != "" {
			extra = append(extra, v.time)
		}
		if v.modified {
			extra = append(extra, "modified")
		}
		if len(extra) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(extra, ", "))
		}
		b.WriteByte('\n')
	} else if v.module == "" && version == "" {
		// go run and go test record no version, nor does a build
		// with -buildvcs=false or outside a git checkout.
		b.WriteString("  the build recorded no version: go build or go install in a git checkout records it\n")
	}
	if v.ndnd != "" {
		fmt.Fprintf(&b, "  ndnd:     %s\n", v.ndnd)
	}
	fmt.Fprintf(&b, "  go:       %s %s/%s\n", v.goVer, runtime.GOOS, runtime.GOARCH)
	return b.String()
}
