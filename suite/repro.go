package suite

import (
	"fmt"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/closesim/closesim/internal/protocol"
)

// The closesim CLI's defaults: the package and test it drives without
// -pkg and -test.
const (
	defaultCLIPkg  = "github.com/closesim/closesim/fuzz"
	defaultCLITest = "TestSweep"
)

// target names what a repro line must run: the test binary's package and
// the running test.
type target struct {
	importPath string // the package's import path
	pkg        string // the package as go test takes it from the module root: "./examples/echo"
	test       string // the test's full name, t.Name()
}

// targetOf returns the package of the running test binary and t's test.
func targetOf(t testing.TB) target {
	tg := target{importPath: "<package>", pkg: "<package>", test: t.Name()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return tg
	}
	// A test binary's path is the package's import path plus ".test".
	tg.importPath = strings.TrimSuffix(bi.Path, ".test")
	tg.pkg = relPkg(tg.importPath, bi.Main.Path)
	return tg
}

// relPkg turns an import path into the form go test takes from the root of
// module mod: "." for the root package, "./sub/pkg" inside it.
func relPkg(importPath, mod string) string {
	switch {
	case mod == "" || importPath == "":
		return importPath
	case importPath == mod:
		return "."
	case strings.HasPrefix(importPath, mod+"/"):
		return "./" + strings.TrimPrefix(importPath, mod+"/")
	}
	return importPath
}

// runPattern returns the -run pattern that selects exactly the test named
// name (protocol.RunPattern).
func runPattern(name string) string { return protocol.RunPattern(name) }

// goTest is the go test command line that runs the test with flags.
func (tg target) goTest(flags ...string) string {
	cmd := fmt.Sprintf("go test %s -run '%s' -v -count=1", tg.pkg, runPattern(tg.test))
	if len(flags) > 0 {
		cmd += " " + strings.Join(flags, " ")
	}
	return cmd
}

// cli is the closesim CLI command line for cmd with args, naming the
// package and test unless they are the CLI's defaults.
func (tg target) cli(cmd string, args ...string) string {
	line := "closesim " + cmd
	if tg.importPath != defaultCLIPkg || tg.test != defaultCLITest {
		line += fmt.Sprintf(" -pkg %s -test %s", tg.pkg, tg.test)
	}
	if len(args) > 0 {
		line += " " + strings.Join(args, " ")
	}
	return line
}

// replaySeed is the go test command that replays seed.
func (tg target) replaySeed(seed uint64) string {
	return tg.goTest(fmt.Sprintf("-closesim.seed=%d", seed))
}

// replayFile is the go test command that replays the scenario file path
// (relative to the package directory, where go test runs the binary).
func (tg target) replayFile(path string) string {
	return tg.goTest("-closesim.file=" + path)
}

// shrinkSeed is the go test command that shrinks seed into out.
func (tg target) shrinkSeed(seed uint64, out string) string {
	return tg.goTest("-closesim.shrink", fmt.Sprintf("-closesim.seed=%d", seed), "-closesim.out="+out)
}

// browserRepro is the closesim command that reruns browser scenario seed,
// or the scenario file file, three times (the CLI's -pkg and -test name a
// user's Browser test).
func (tg target) browserRepro(seed uint64, file string) string {
	line := "closesim browser"
	if tg.importPath != defaultCLIPkg || tg.test != "TestBrowserSweep" {
		line += fmt.Sprintf(" -pkg %s -test %s", tg.pkg, tg.test)
	}
	if file != "" {
		return line + " -file " + file + " -repeat 3"
	}
	return line + fmt.Sprintf(" -n 1 -seed %d -repeat 3", seed)
}
