// Command ndnsvs-node makes this machine a member of NDN State Vector Sync
// groups: it runs ndnd's forwarder in-process with the multicast strategy on
// every sync group, so nothing else needs installing.
//
// Usage:
//
//	ndnsvs-node [run] [--config FILE]   run the node (the default command)
//	ndnsvs-node check [--config FILE]   check a configuration and exit
//	ndnsvs-node config                  print the default configuration
//	ndnsvs-node version                 print the version
//
// This is the only package that exits the process.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	ndnsvsnode "github.com/ndnsvs/ndnsvs-node"
	"github.com/ndnsvs/ndnsvs-node/internal/config"
	"github.com/ndnsvs/ndnsvs-node/internal/node"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// started is when the process began running Go code.
var started = time.Now()

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the exit, for tests. Exit codes: 0 success, 1 a
// runtime failure, 2 a usage or configuration error.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run", "check":
		fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
		fs.SetOutput(stderr)
		path := fs.String("config", "", "configuration `file` (TOML); without it the embedded defaults are used")
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "ndnsvs-node %s: unexpected argument %q\n", cmd, fs.Arg(0))
			return 2
		}
		cfg, err := loadConfig(*path)
		if err != nil {
			fmt.Fprintf(stderr, "ndnsvs-node: %v\n", err)
			return 2
		}
		if cmd == "check" {
			fmt.Fprintln(stdout, "configuration OK")
			return 0
		}
		return serve(cfg, stderr)
	case "config":
		_, _ = stdout.Write(ndnsvsnode.ExampleConfig)
		return 0
	case "version":
		fmt.Fprintf(stdout, "ndnsvs-node %s (%s)\n", version, depVersions())
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "ndnsvs-node: unknown command %q\n", cmd)
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  ndnsvs-node [run] [--config FILE]   run the node (default command; embedded defaults without --config)
  ndnsvs-node check [--config FILE]   check a configuration and exit
  ndnsvs-node config                  print the default configuration (config.toml.example)
  ndnsvs-node version                 print the version
`)
}

func loadConfig(path string) (config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

// serve runs the node until SIGINT or SIGTERM (node.Run stops it in order),
// or until something the node supervises fails.
func serve(cfg config.Config, stderr io.Writer) int {
	logger, err := node.NewLogger(cfg.Log, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ndnsvs-node: %v\n", err)
		return 2
	}
	n, err := node.New(cfg, logger, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ndnsvs-node: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		select {
		case <-n.Ready():
			logger.Info("node ready",
				"version", version,
				"unix", unixPath(cfg),
				"name", n.NodeName(),
				"groups", n.GroupPrefixes(),
				"network_faces", len(n.Forwarder().NetworkFaces()),
				"startup", time.Since(started).Round(time.Microsecond))
		case <-ctx.Done():
		}
		<-ctx.Done()
		stop() // a second signal now kills the process the default way
	}()
	if err := n.Run(ctx); err != nil {
		logger.Error("node stopped", "err", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

func unixPath(cfg config.Config) string {
	if !cfg.Faces.Unix.Enabled {
		return "off"
	}
	return cfg.UnixSocketPath()
}

func depVersions() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "no build info"
	}
	s := bi.GoVersion
	for _, d := range bi.Deps {
		if d.Path == "github.com/named-data/ndnd" {
			s += ", ndnd " + d.Version
		}
	}
	return s
}
