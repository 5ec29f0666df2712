package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// childCommand builds the command that re-executes this binary as a
// measuring child of the subcommand sub (svs, sec, pub) with args. Tests
// replace it to re-execute the test binary (useTestChildren).
var childCommand = func(sub string, args []string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return exec.Command(exe, append([]string{sub}, args...)...), nil
}

// writeResult prints a child's result as the JSON of its "RESULT " line,
// which runChild reads.
func writeResult(out io.Writer, res any) error {
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "RESULT %s\n", b)
	return err
}

// runChild runs a measurement in the fresh process cmd (its stderr is
// ours, for progress), kills it after limit, and decodes the JSON of its
// "RESULT " line into res. what names the child in errors.
func runChild(what string, cmd *exec.Cmd, limit time.Duration, res any) error {
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", what, err)
	}
	timer := time.AfterFunc(limit, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	found := false
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "RESULT "); ok {
			if err := json.Unmarshal([]byte(rest), res); err != nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				return fmt.Errorf("%s: %w", what, err)
			}
			found = true
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !found {
		return fmt.Errorf("%s printed no result", what)
	}
	return nil
}
