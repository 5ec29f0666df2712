// Command ndnsvs-node makes this machine a member of NDN State Vector Sync
// groups: it runs ndnd's forwarder in-process with the multicast strategy on
// every sync group, so nothing else needs installing.
//
// Usage:
//
//	ndnsvs-node [run] [--config FILE]   run the node (the default command)
//	ndnsvs-node check [--config FILE]   check a configuration and exit
//	ndnsvs-node config                  print the default configuration
//	ndnsvs-node version                 print the version (also --version)
//	ndnsvs-node status [-o json]        show a running node's groups, members, faces, routes
//	ndnsvs-node help [COMMAND]          print help (also -h, --help)
//	ndnsvs-node alive|count|chat ...    the seed's example applications
//
// This is the only package that exits the process.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	ndnsvsnode "github.com/ndnsvs/ndnsvs-node"
	"github.com/ndnsvs/ndnsvs-node/internal/config"
	"github.com/ndnsvs/ndnsvs-node/internal/node"
)

// started is when the process began running Go code.
var started = time.Now()

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes, as Go's flag package and most CLIs use them.
const (
	exitOK      = 0
	exitFailure = 1 // the node failed while running
	exitUsage   = 2 // a usage or configuration error: nothing was started
)

// command is one subcommand: its flags and what it does.
type command struct {
	name    string
	args    string // after the name in the usage line
	summary string // one line, for the command list
	about   string // paragraphs for the command's own help
	// configFlag gives the command a --config flag.
	configFlag bool
	do         func(c *invocation) int
}

// invocation is one command being run.
type invocation struct {
	cmd            *command
	stdout, stderr io.Writer
	configPath     string // "" for the embedded defaults
}

var commands = []*command{
	{
		name: "run", args: "[--config FILE]", configFlag: true,
		summary: "run the node (the default command)",
		about: `Runs the node until SIGINT or SIGTERM, then stops it in order (a second
signal kills it at once). Without --config it runs on the embedded defaults,
which open UDP port 6363 and UDP multicast on every interface and the unix
socket for local applications (ndnsvs-node config prints them).

Its "node ready" log line gives the node's name and, as client_transport,
the NDN_CLIENT_TRANSPORT value that points applications at its socket.

SIGHUP reads FILE again: log.level changes at once; every other changed key
is logged as needing a restart and keeps its running value; a file that does
not load is logged as an error and the node keeps running as it was. Without
--config, SIGHUP is logged and ignored.`,
		do: runNode,
	},
	{
		name: "check", args: "[--config FILE]", configFlag: true,
		summary: "check a configuration, and what it asks of this machine, and exit",
		about: `Checks a configuration as run would, without starting anything: every key and
value, and what it needs from this machine (that the multicast interfaces
named exist and are usable, that the socket's directory can be made and its
path is free, that its group exists, that the state directory can be
written, that the TLS files can be read and pair, that listen addresses are
this machine's). Prints "configuration OK" and exits 0, or prints every
problem with its file, line and key and exits 2. Without --config it checks
the embedded defaults on this machine.`,
		do: checkConfig,
	},
	{
		name:    "config",
		summary: "print the default configuration (config.toml.example), every key documented",
		about: `Prints the embedded default configuration, with every key, its default and its
trade-off documented: a starting point for --config.`,
		do: func(c *invocation) int {
			_, _ = c.stdout.Write(ndnsvsnode.ExampleConfig)
			return exitOK
		},
	},
	{
		name:    "version",
		summary: "print the version of ndnsvs-node, ndnd and Go (also --version)",
		about: `Prints ndnsvs-node's version (the module version, or the VCS revision, time
and whether the tree was modified, as the build recorded them), the version
of the ndnd forwarder built in, and the Go version and platform.`,
		do: func(c *invocation) int {
			fmt.Fprint(c.stdout, buildVersion().long())
			return exitOK
		},
	},
	{
		name: "help", args: "[COMMAND]",
		summary: "print this help, or a command's (also -h, --help)",
		about:   `Prints the list of commands, or the help of COMMAND.`,
	},
}

func lookup(name string) *command {
	i := slices.IndexFunc(commands, func(c *command) bool { return c.name == name })
	if i < 0 {
		return nil
	}
	return commands[i]
}

// run is main without the exit, for tests. It returns exitOK, exitFailure
// or exitUsage.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := lookup("run")
	if len(args) > 0 {
		switch a := args[0]; {
		case a == "-h" || a == "-help" || a == "--help":
			topUsage(stdout)
			return exitOK
		case a == "-version" || a == "--version":
			fmt.Fprint(stdout, buildVersion().long())
			return exitOK
		case a == "help":
			return help(args[1:], stdout, stderr)
		case a == "status":
			return statusMain(context.Background(), args[1:], stdout, stderr)
		case a == "keygen":
			return keygenMain(args[1:], stdout, stderr)
		case !strings.HasPrefix(a, "-"):
			if ap := lookupApp(a); ap != nil && lookup(a) == nil {
				return appMain(ap, args[1:], appIO{stdin: os.Stdin, stdout: stdout, stderr: stderr})
			}
			if cmd = lookup(a); cmd == nil {
				fmt.Fprintf(stderr, "ndnsvs-node: unknown command %q\n\n", a)
				topUsage(stderr)
				return exitUsage
			}
			args = args[1:]
		}
	}

	inv := &invocation{cmd: cmd, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed below, on stdout for -h and stderr for errors
	var path string
	if cmd.configFlag {
		fs.StringVar(&path, "config", "", "configuration `FILE` (TOML); without it the embedded defaults are used")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cmd.usage(stdout)
			return exitOK
		}
		fmt.Fprintln(stderr)
		cmd.usage(stderr)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ndnsvs-node %s: unexpected argument %q\n\n", cmd.name, fs.Arg(0))
		cmd.usage(stderr)
		return exitUsage
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "config" })
	if set && path == "" {
		// An unset variable in --config "$CONF" must not quietly mean
		// the defaults, which listen on every interface.
		fmt.Fprintf(stderr, "ndnsvs-node %s: --config: empty file name; give a file, or leave --config out to use the embedded defaults\n", cmd.name)
		return exitUsage
	}
	inv.configPath = path
	return cmd.do(inv)
}

// help runs "ndnsvs-node help [COMMAND]".
func help(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		topUsage(stdout)
		return exitOK
	case len(args) > 1:
		fmt.Fprintf(stderr, "ndnsvs-node help: unexpected argument %q\n\n", args[1])
	case lookup(args[0]) != nil:
		lookup(args[0]).usage(stdout)
		return exitOK
	case args[0] == "status":
		return statusMain(context.Background(), []string{"-h"}, stdout, stderr)
	case args[0] == "keygen":
		return keygenMain([]string{"-h"}, stdout, stderr)
	case lookupApp(args[0]) != nil:
		a := lookupApp(args[0])
		fs := flag.NewFlagSet(a.name, flag.ContinueOnError)
		var f appFlags
		f.register(fs)
		a.bind(fs)
		a.usage(stdout, fs)
		return exitOK
	default:
		fmt.Fprintf(stderr, "ndnsvs-node help: unknown command %q\n\n", args[0])
	}
	topUsage(stderr)
	return exitUsage
}

func topUsage(w io.Writer) {
	fmt.Fprint(w, `ndnsvs-node makes this machine a member of NDN State Vector Sync groups: it
runs an NDN forwarder (ndnd's) with the multicast strategy on every group, and
local applications reach it on its unix socket.

Usage:
  ndnsvs-node [COMMAND] [FLAGS]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s  %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-8s  %s\n", "status", "show a running node's groups, members, faces and routes (-o json for scripts)")
	fmt.Fprintf(w, "  %-8s  %s\n", "keygen", "make a secured group's keys and certificates, or its HMAC key")
	if len(apps) > 0 {
		fmt.Fprint(w, "\nApplications (sync members of their own, on a running node or a forwarder of their own):\n")
		for _, a := range apps {
			fmt.Fprintf(w, "  %-8s  %s\n", a.name, a.summary)
		}
	}
	fmt.Fprint(w, `
Flags:
  -h, --help     print this help
      --version  print the version

Without a command, ndnsvs-node runs the node: "ndnsvs-node --config FILE" is
"ndnsvs-node run --config FILE". Use "ndnsvs-node COMMAND --help" for the help
of a command or application. The configuration is documented in config.toml.example
("ndnsvs-node config") and docs/configuration.md.
`)
}

func (c *command) usage(w io.Writer) {
	line := "ndnsvs-node " + c.name
	if c.args != "" {
		line += " " + c.args
	}
	fmt.Fprintf(w, "Usage:\n  %s\n\n%s\n\nFlags:\n", line, c.about)
	if c.configFlag {
		fmt.Fprint(w, "      --config FILE  configuration file (TOML); without it the embedded defaults\n")
	}
	fmt.Fprint(w, "  -h, --help         print this help\n")
}

// loadConfig returns the configuration at path, or the embedded defaults
// for "". Problems that a file's keys caused name the file.
func loadConfig(path string) (config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

func checkConfig(c *invocation) int {
	cfg, err := loadConfig(c.configPath)
	if err == nil {
		err = config.InFile(cfg.Preflight(), c.configPath)
	}
	if err == nil {
		err = config.InFile(node.CheckSecurity(cfg), c.configPath)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "ndnsvs-node: %v\n", err)
		return exitUsage
	}
	fmt.Fprintln(c.stdout, "configuration OK")
	return exitOK
}

// runNode runs the node until SIGINT or SIGTERM (node.Run stops it in
// order), or until something the node supervises fails. SIGHUP reloads.
func runNode(c *invocation) int {
	cfg, err := loadConfig(c.configPath)
	if err != nil {
		fmt.Fprintf(c.stderr, "ndnsvs-node: %v\n", err)
		return exitUsage
	}
	// SIGHUP is caught before anything starts: its default action would
	// kill the node and leave the socket file behind.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	level := new(slog.LevelVar)
	logger, err := node.NewLoggerLevel(cfg.Log, c.stderr, level)
	if err != nil {
		fmt.Fprintf(c.stderr, "ndnsvs-node: %v\n", err)
		return exitUsage
	}
	n, err := node.New(cfg, logger, c.stderr)
	if err != nil {
		fmt.Fprintf(c.stderr, "ndnsvs-node: %v\n", config.InFile(err, c.configPath))
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		select {
		case <-n.Ready():
			v := buildVersion()
			attrs := []any{
				"version", v.short(),
				"name", n.NodeName(),
				"groups", n.GroupPrefixes(),
				"network_faces", len(n.Forwarder().NetworkFaces()),
				"startup", time.Since(started).Round(time.Microsecond),
			}
			if t := n.ClientTransport(); t != "" {
				// What an application's NDN_CLIENT_TRANSPORT should be.
				attrs = append(attrs, "client_transport", t)
			} else {
				attrs = append(attrs, "unix", "off")
			}
			logger.Info("node ready", attrs...)
		case <-ctx.Done():
		}
		<-ctx.Done()
		stop() // a second signal now kills the process the default way
	}()
	go reloadOnHUP(ctx, hup, c.configPath, cfg, level, logger)
	if err := n.Run(ctx); err != nil {
		logger.Error("node stopped", "err", err)
		return exitFailure
	}
	logger.Info("stopped")
	return exitOK
}

// reloadOnHUP reads the configuration file again at each SIGHUP, as nginx
// and Prometheus do: what can change live is applied, what cannot is logged
// by key, and a file that does not load changes nothing.
func reloadOnHUP(ctx context.Context, hup <-chan os.Signal, path string, running config.Config, level *slog.LevelVar, logger *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		if path == "" {
			logger.Warn("SIGHUP ignored: the node runs on the embedded defaults, with no configuration file to read again")
			continue
		}
		logger.Debug("SIGHUP: reading the configuration again", "config", path)
		next, err := config.Load(path)
		if err != nil {
			logger.Error("SIGHUP: configuration not reloaded, the node keeps running as it was", "config", path, "err", err)
			continue
		}
		var applied, restart []string
		running, applied, restart = node.Reload(running, next, level, logger)
		logger.Info("SIGHUP: configuration reloaded", "config", path, "applied", len(applied), "need_restart", len(restart))
	}
}
