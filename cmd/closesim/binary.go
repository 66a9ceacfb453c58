package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/closesim/closesim/internal/protocol"
	"github.com/closesim/closesim/scenarios"
)

// defaultPkg is the package whose test binary closesim drives by default,
// and defaultTest the test in it that calls suite.Run.
const (
	defaultPkg  = "github.com/closesim/closesim/fuzz"
	defaultTest = "TestSweep"
)

// target is the test binary's package and the suite test in it that
// closesim drives (-pkg, -test).
type target struct{ pkg, test string }

// addTargetFlags registers -pkg and -test on fs.
func addTargetFlags(fs *flag.FlagSet) *target {
	tg := &target{}
	fs.StringVar(&tg.pkg, "pkg", defaultPkg, "the package whose test binary closesim drives (a user's package: one whose test calls suite.Run)")
	fs.StringVar(&tg.test, "test", defaultTest, "the test in -pkg that calls suite.Run")
	return tg
}

// isDefault reports whether tg is closesim's own suite.
func (tg target) isDefault() bool { return tg.pkg == defaultPkg && tg.test == defaultTest }

// replayCmd is the closesim command that replays seed of tg.
func (tg target) replayCmd(seed uint64) string {
	if tg.isDefault() {
		return fmt.Sprintf("closesim replay -seed %d", seed)
	}
	return fmt.Sprintf("closesim replay -pkg %s -test %s -seed %d", tg.pkg, tg.test, seed)
}

// replayFileCmd is the closesim command that replays the scenario file
// path of tg.
func (tg target) replayFileCmd(path string) string {
	if tg.isDefault() {
		return "closesim replay " + path
	}
	return fmt.Sprintf("closesim replay -pkg %s -test %s %s", tg.pkg, tg.test, path)
}

// runPattern returns the -test.run pattern that selects exactly the test
// named name (protocol.RunPattern: the suite uses the same).
func runPattern(name string) string { return protocol.RunPattern(name) }

// checkTest fails with a usage error unless the binary has tg's test.
func checkTest(bin string, tg target) error {
	top, _, _ := strings.Cut(tg.test, "/")
	if top == "" {
		return usagef("-test must name a test")
	}
	out, err := exec.Command(bin, "-test.list", runPattern(top)).Output()
	if err != nil {
		return fmt.Errorf("list the tests of %s: %w", tg.pkg, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(line) == top {
			return nil
		}
	}
	return usagef("%s has no test %s: give -test, the test that calls suite.Run", tg.pkg, top)
}

// errHelp is returned after -h printed a command's help.
var errHelp = flag.ErrHelp

// newFlags returns a flag set that reports errors as usage errors and whose
// -h prints the command's synopsis and flags.
func newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: closesim %s\n\n", synopsis)
		printFlags(fs)
	}
	return fs
}

// printFlags lists every flag of fs with its usage and its default, the
// zero ones included (flag.PrintDefaults leaves those out).
func printFlags(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if name != "" {
			name = " " + name
		}
		def := f.DefValue
		if name == " string" {
			def = strconv.Quote(def)
		}
		fmt.Fprintf(fs.Output(), "  -%s%s\n    \t%s (default %s)\n", f.Name, name, usage, def)
	})
}

// parse parses args, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	var out bytes.Buffer
	fs.SetOutput(&out) // report errors ourselves, in one line
	err := fs.Parse(args)
	fs.SetOutput(os.Stderr)
	switch {
	case err == flag.ErrHelp:
		os.Stderr.Write(out.Bytes()) // the usage fs.Parse printed
		return errHelp
	case err != nil:
		return usagef("%v (closesim %s -h lists the flags)", err, fs.Name())
	}
	return nil
}

// buildTestBinary compiles the test binary of pkg into dir with go test -c
// and extra build flags; the go build cache makes a rebuild of an
// unchanged package quick.
func buildTestBinary(pkg, dir string, extra ...string) (string, error) {
	bin := filepath.Join(dir, "closesim-worker.test")
	cmd := exec.Command("go", append(append([]string{"test", "-c", "-o", bin}, extra...), pkg)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "no required module provides") || strings.Contains(msg, "cannot find package") ||
			strings.Contains(msg, "is not in std") || strings.Contains(msg, "matched no packages") ||
			strings.Contains(msg, "directory not found") || strings.Contains(msg, "no Go files in") {
			return "", usagef("cannot build the test binary of %s: %s", pkg, firstLine(msg))
		}
		return "", fmt.Errorf("go test -c %s: %v: %s", pkg, err, msg)
	}
	return bin, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// checkScenarioFile reads the scenario file at path as the test binary
// will (a scenario JSON file or a Go fuzz corpus file) and validates it, so
// that bad input is a one-line usage error here (exit 2), not a failing
// test in the binary (exit 1, with go test's output). Custom step names are
// checked by the binary, which knows the suite's registered steps.
func checkScenarioFile(path string) error {
	sc, err := scenarios.ReadFile(path)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), path+": ")
		return errors.New(strings.TrimPrefix(msg, "read scenario: "))
	}
	if err := scenarios.Validate(&sc); err != nil {
		return fmt.Errorf("invalid scenario: %w", err)
	}
	return nil
}

// testFlags turns closesim's replay/shrink inputs into test flags: a seed
// or a scenario file (absolute, since the binary runs in its package dir).
func inputFlags(seed int64, args []string) ([]string, error) {
	switch {
	case seed >= 0 && len(args) == 0:
		return []string{fmt.Sprintf("-closesim.seed=%d", seed)}, nil
	case seed < 0 && len(args) == 1:
		path, err := filepath.Abs(args[0])
		if err != nil {
			return nil, usagef("%v", err)
		}
		if _, err := os.Stat(path); err != nil {
			return nil, usagef("cannot read %s: %v", args[0], err)
		}
		if err := checkScenarioFile(path); err != nil {
			return nil, usagef("%s: %v", args[0], err)
		}
		return []string{"-closesim.file=" + path}, nil
	default:
		return nil, usagef("give either -seed N or one scenario FILE")
	}
}

// runTest runs the test binary with the given test and flags, passing its
// output through; a test failure is a failure (exit 1), not an internal error.
func runTest(bin, test string, flags []string) error {
	args := append([]string{"-test.run=" + runPattern(test), "-test.v", "-test.count=1"}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return errFailures
		}
		return fmt.Errorf("run %s: %w", test, err)
	}
	return nil
}
