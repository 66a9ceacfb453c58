// Command closesim is the friendly front of closesim's test binaries, as
// gotestsum is for go test. Deterministic runs need a test binary (synctest
// and cryptotest refuse to run elsewhere), so closesim builds the test
// binary of a package whose test calls suite.Run (by default
// github.com/closesim/closesim/fuzz and its TestSweep; a user's own package
// with -pkg and -test) once, and drives that test:
//
//	closesim run [-pkg PKG -test TEST] [-seed S] [-n N | -duration D] [-workers K] [-shard i/n] [-profile pion|w3c] [-known FILE] [-out DIR]
//	closesim replay [-pkg PKG -test TEST] (-seed N | FILE)
//	closesim shrink [-pkg PKG -test TEST] (-seed N | FILE) [-out FILE]
//	closesim list
//	closesim report merge [-out DIR] DIR...
//	closesim matrix -versions LIST [-pkg PKG -test TEST] [-n N | FILE|DIR...] [-out DIR]
//	closesim bisect -good vX -bad vY [-pkg PKG -test TEST] (FILE | -seed N)
//	closesim export [-finding ID] [-o FILE] FILE
//	closesim browser [-n N] [-repeat K] [-window D] [-out DIR]
//	closesim bench
//
// Exit codes: 0 no failures, 1 failures (known issues do not count), 2 usage
// or bad input, 3 internal error, 4 interrupted (SIGINT or SIGTERM; the
// reports hold what finished and closesim run -resume DIR continues).
package main

import (
	"errors"
	"fmt"
	"os"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailures = 1
	exitUsage    = 2
	exitInternal = 3
	// exitInterrupted: the sweep was stopped by SIGINT or SIGTERM; its
	// reports hold what finished (closesim run -resume continues it).
	exitInterrupted = 4
)

// usageError is bad input from the user: exit 2 with a one-line reason.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errFailures reports that a command ran and found failures (exit 1).
var errFailures = errors.New("failures found")

// errInterrupted reports that a sweep was interrupted (exit 4).
var errInterrupted = errors.New("interrupted")

const topUsage = `closesim finds the bugs that hide in WebRTC teardown.

usage:
  closesim run     sweep generated scenarios in worker processes, write reports
  closesim replay  replay one seed or scenario file, print its trace
  closesim shrink  shrink a failing seed or scenario file to a minimal scenario
  closesim list    list close phases, invariants and profiles
  closesim report  merge shard reports (closesim report merge DIR...)
  closesim matrix  run the same scenarios against several Pion releases, write matrix.md
  closesim bisect  find the Pion release (and pion module) that changed a scenario's verdict
  closesim export  write a scenario as a standalone Go test that needs only Pion
  closesim browser the same close scenarios against headless Chromium (real time)
  closesim bench   measure closesim against Pion alone on this machine

Run 'closesim <command> -h' for a command's flags.`

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(os.Stderr, topUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmds := map[string]func([]string) error{
		"run": cmdRun, "matrix": cmdMatrix, "bisect": cmdBisect, "export": cmdExport, "browser": cmdBrowser, "replay": cmdReplay, "shrink": cmdShrink, "list": cmdList, "report": cmdReport, "bench": cmdBench,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "closesim: unknown command %q (run 'closesim -h')\n", args[0])
		return exitUsage
	}
	err := cmd(args[1:])
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp):
		return exitOK
	case errors.Is(err, errFailures):
		return exitFailures
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "closesim %s: %v\n", args[0], err)
		return exitUsage
	default:
		fmt.Fprintf(os.Stderr, "closesim %s: internal error: %v\n", args[0], err)
		return exitInternal
	}
}
