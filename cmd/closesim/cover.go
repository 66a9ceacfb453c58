package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/closesim/closesim/coverage"
)

// coverDataDir is the folder of a report directory where -cover's workers
// write their coverage counters (merged by closesim report merge).
const coverDataDir = "covdata"

// coverBuildFlags are the go test -c flags of a -cover sweep: statement
// coverage of the measured Pion modules, atomic counters (workers run
// handlers on many goroutines).
func coverBuildFlags() []string {
	return []string{"-cover", "-covermode=atomic", "-coverpkg=" + strings.Join(coverage.TeardownPackages(), ",")}
}

// teardownCoverage merges the counters in dirs into out's
// teardown-coverage.profile, writes its HTML view and returns the teardown
// coverage of the measured modules.
func teardownCoverage(out string, dirs []string) (*coverage.TeardownCoverage, error) {
	var with []string
	for _, d := range dirs {
		if entries, err := os.ReadDir(d); err == nil && len(entries) > 0 {
			with = append(with, d)
		}
	}
	if len(with) == 0 {
		return nil, fmt.Errorf("no coverage counters in %s: were the workers built with -cover?", strings.Join(dirs, ", "))
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	profile := filepath.Join(out, "teardown-coverage.profile")
	if msg, err := exec.Command("go", "tool", "covdata", "textfmt", "-i="+strings.Join(with, ","), "-o="+profile).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go tool covdata textfmt: %v: %s", err, bytes.TrimSpace(msg))
	}
	dirOf, err := packageDirs(profile)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(profile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tc, err := coverage.AnalyzeProfile(bufio.NewReader(f), func(pkg string) (string, error) {
		if d, ok := dirOf[pkg]; ok {
			return d, nil
		}
		return "", fmt.Errorf("go list does not know package %s", pkg)
	})
	if err != nil {
		return nil, err
	}
	html := filepath.Join(out, "teardown-coverage.html")
	if msg, err := exec.Command("go", "tool", "cover", "-html="+profile, "-o="+html).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go tool cover -html: %v: %s", err, bytes.TrimSpace(msg))
	}
	return &tc, nil
}

// packageDirs maps the packages of a coverage profile to their source
// directories (go list).
func packageDirs(profile string) (map[string]string, error) {
	data, err := os.ReadFile(profile)
	if err != nil {
		return nil, err
	}
	var pkgs []string
	for _, line := range strings.Split(string(data), "\n") {
		if i := strings.LastIndexByte(line, ':'); i > 0 && !strings.HasPrefix(line, "mode:") {
			if p := path.Dir(line[:i]); !slices.Contains(pkgs, p) {
				pkgs = append(pkgs, p)
			}
		}
	}
	outb, err := exec.Command("go", append([]string{"list", "-f", "{{.ImportPath}} {{.Dir}}"}, pkgs...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("go list the profile's packages: %w", err)
	}
	dirs := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(outb)), "\n") {
		if p, d, ok := strings.Cut(line, " "); ok {
			dirs[p] = d
		}
	}
	return dirs, nil
}
