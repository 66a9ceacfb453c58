package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/closesim/closesim"
	"github.com/closesim/closesim/export"
	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/scenarios"
)

// findingName matches the finding ID a findings file name starts with:
// F2-min.json, F15-fuzz-b8016a50e155ea7b.
var findingName = regexp.MustCompile(`^(F[0-9]+[a-z]?)[-_.]`)

func cmdExport(args []string) error {
	fs := newFlags("export", "export [-finding ID] [-invariant ID] [-package NAME] [-o FILE] FILE\n\nWrites the scenario FILE as a standalone Go test that imports only Pion and the standard\nlibrary: the same two peers over vnet in a synctest bubble, the scenario's steps as code, and\nthe finding's check. It fails while the bug is present and passes once it is fixed.")
	finding := fs.String("finding", "", "the finding's ID, e.g. F2 (default: from the file name, F2-min.json -> F2)")
	invariant := fs.String("invariant", "", "the invariant the test checks (default: the finding's, from the known issues closesim ships and the module's known-issues.json)")
	pkg := fs.String("package", "repro", "the test file's Go package name")
	out := fs.String("o", "", "the file to write (default: <finding>_test.go; - for standard output)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("give one scenario FILE")
	}
	path := fs.Arg(0)
	sc, err := scenarios.ReadFile(path)
	if err != nil {
		return usagef("%v", err)
	}
	id := *finding
	if id == "" {
		m := findingName.FindStringSubmatch(filepath.Base(path))
		if m == nil {
			return usagef("%s: cannot tell the finding from the file name: give -finding ID", path)
		}
		id = m[1]
	}
	note := ""
	if *invariant == "" {
		k, ok := knownIssue(id)
		if !ok {
			return usagef("%s: no known issue %s: give -invariant ID", path, id)
		}
		*invariant, note = k.Invariant, k.Note
	}
	src, err := export.Go(sc, export.Options{Finding: id, Invariant: *invariant, Package: *pkg, Source: filepath.Base(path), Note: note})
	if err != nil { // an *export.Unsupported field, or an invariant export cannot check
		return usagef("%s: %v", path, err)
	}
	if *out == "-" {
		_, err := os.Stdout.Write(src)
		return err
	}
	if *out == "" {
		*out = id + "_test.go"
	}
	if !strings.HasSuffix(*out, "_test.go") {
		return usagef("-o %s: a test file's name must end in _test.go", *out)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Printf("wrote %s: Test%s checks %s; run it with go test -run '^Test%s$' -v\n", *out, id, *invariant, id)
	return nil
}

// knownIssue finds the known issue id among those closesim ships and, if
// the current directory's module has one, its known-issues.json.
func knownIssue(id string) (invariants.KnownIssue, bool) {
	sources := [][]byte{closesim.KnownIssues()}
	if gomod := findUp("go.mod"); gomod != "" {
		if data, err := os.ReadFile(filepath.Join(filepath.Dir(gomod), "known-issues.json")); err == nil {
			sources = append([][]byte{data}, sources...)
		}
	}
	for _, data := range sources {
		issues, err := invariants.ParseKnown(data, invariants.AnyInvariant())
		if err != nil {
			continue
		}
		for _, k := range issues {
			if k.ID == id {
				return k, true
			}
		}
	}
	return invariants.KnownIssue{}, false
}

// findUp returns the path of name in the current directory or the nearest
// parent that has it ("" if none does).
func findUp(name string) string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
