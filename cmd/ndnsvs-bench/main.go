// Command ndnsvs-bench measures ndnsvs-node and prints one report, every
// comparison side by side from the same run:
//
//   - the stripped, pure-Go binary's size, and its start-up time to ready;
//   - the node's idle resident memory;
//   - Interest/Data round trip and throughput through the in-process face
//     and through the unix socket, on one forwarder;
//   - the node's resident memory after many unique Data names passed through
//     it, with this project's defaults and with ndnd's Content Store defaults.
//
// Every node it starts has multicast and every non-loopback listener off: it
// sends nothing off the machine.
//
// A report takes minutes. As it goes, each phase prints a line on stderr
// when it starts (what it is about to measure) and one when it ends (how
// long it took); stdout carries the report alone.
//
// ndnsvs-bench svs compares this project's SVS driver with ndnd's SvSync:
// publish-to-learn latency, CPU and allocations, each in fresh child
// processes (see svs.go).
//
// ndnsvs-bench pub compares publications (payloads learned and fetched)
// with ndnd's SvsALO: publish-to-delivered latency, durable publishing
// rate, storage bytes and memory per publication (see pub.go).
//
// ndnsvs-bench sec measures what signing and validating the State Vector
// Data costs our driver: Ed25519, ECDSA P-256, HMAC and DigestSha256 (the
// baseline) side by side, each in fresh child processes (see sec.go).
//
// Usage:
//
//	ndnsvs-bench fw [-names 1000000] [-rtt 20000] [-runs 3]
//	ndnsvs-bench svs [-members 3,20] [-pubs 500] [-interval 20ms] [-runs 2]
//	ndnsvs-bench pub [-members 3,20] [-sizes 100,65536] [-pubs 200] [-interval 50ms] [-runs 1] [-rate 20000] [-soak 1000000]
//	ndnsvs-bench sec [-members 3,20] [-signers ed25519,ecdsa,hmac,digest] [-pubs 500] [-interval 20ms] [-runs 2]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndnsvs/ndnsvs-node/fw"
)

func main() {
	if len(os.Args) >= 2 && os.Args[1] == "transport" {
		runTransport(os.Args[2:]) // transport.go: our faces against ndnd's, side by side
	}
	if len(os.Args) >= 2 && os.Args[1] == "svs" {
		if err := benchSVS(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "ndnsvs-bench:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) >= 2 && os.Args[1] == "pub" {
		if err := benchPub(os.Args[2:], os.Stdout); err != nil { // pub.go: ours against ndnd's SvsALO
			fmt.Fprintln(os.Stderr, "ndnsvs-bench:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) >= 2 && os.Args[1] == "sec" {
		if err := benchSec(os.Args[2:], os.Stdout); err != nil { // sec.go: the signers' cost, digest as the baseline
			fmt.Fprintln(os.Stderr, "ndnsvs-bench:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) < 2 || os.Args[1] != "fw" {
		fmt.Fprintln(os.Stderr, "usage: ndnsvs-bench fw [-names N] [-rtt N] [-runs N] [-node BINARY]\n       ndnsvs-bench svs [flags]\n       ndnsvs-bench pub [flags]\n       ndnsvs-bench sec [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("fw", flag.ExitOnError)
	var o fwOptions
	fs.IntVar(&o.names, "names", 1_000_000, "unique Data names pushed through each node in the memory soak")
	fs.IntVar(&o.rtt, "rtt", 20_000, "sequential exchanges per round-trip measurement")
	fs.IntVar(&o.runs, "runs", 3, "start-up measurements")
	fs.StringVar(&o.node, "node", "", "ndnsvs-node binary to measure (default: build it stripped with go build)")
	fs.IntVar(&o.window, "window", 64, "Interests in flight in throughput and soak runs")
	_ = fs.Parse(os.Args[2:])
	if err := benchFW(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ndnsvs-bench:", err)
		os.Exit(1)
	}
}

// startForwarder creates the process's forwarder and starts it, waiting at
// most 10 s for it to be ready.
func startForwarder(cfg fw.Config) (*fw.Forwarder, error) {
	fwd, err := fw.New(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := fwd.Start(ctx); err != nil {
		return nil, err
	}
	return fwd, nil
}

// benchForwarder starts the forwarder of a measuring child: a thread per
// CPU, ndnd's log at ERROR, the multicast strategy on group.
func benchForwarder(group string) (*fw.Forwarder, enc.Name, error) {
	cfg := fw.DefaultConfig()
	cfg.Threads = runtime.GOMAXPROCS(0)
	cfg.ForwarderLogLevel = slog.LevelError
	fwd, err := startForwarder(cfg)
	if err != nil {
		return nil, nil, err
	}
	name, err := enc.NameFromStr(group)
	if err != nil {
		return nil, nil, err
	}
	if err := fwd.SetStrategy(name, "multicast"); err != nil {
		return nil, nil, err
	}
	return fwd, name, nil
}

// startProfiles starts a CPU profile (at pprof's default 100 Hz: a
// higher rate set beforehand with SetCPUProfileRate lost most samples
// here) and an
// execution trace into the files named, each when its name is not empty;
// the function it returns stops both and closes the files.
func startProfiles(cpu, exec string) (func(), error) {
	var stops []func()
	stop := func() {
		for _, s := range stops {
			s()
		}
	}
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if exec != "" {
		f, err := os.Create(exec)
		if err != nil {
			stop()
			return nil, err
		}
		if err := trace.Start(f); err != nil {
			f.Close()
			stop()
			return nil, err
		}
		stops = append(stops, func() { trace.Stop(); f.Close() })
	}
	return stop, nil
}
