package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/closesim/closesim/export"
	"github.com/closesim/closesim/scenarios"
)

var updateRepro = flag.Bool("export.update", false, "rewrite docs/findings/repro from docs/findings/*-min.json")

// reproDir holds the exported reproducers: a module of its own, so that
// closesim's go test ./... and go vet ./... leave it alone and a Pion
// maintainer can copy any one file out.
const reproDir = "../../docs/findings/repro"

// reproSymptom is what each check prints when it fails.
var reproSymptom = map[string]string{
	"local.closed-states":            "after close, want",
	"events.no-activity-after-close": "after its first Close() returned",
	"close.returns-bounded":          "of virtual time, more than 5s",
	"leak.goroutines":                "goroutine left after both peers closed",
	"harness.no-wedge":               "did not finish within",
	"api.rejected-after-close":       "after close returned",
	"remote.sctp-closed-after-abort": "at the end though its close callback fired",
	"remote.consent-failure":         "never",
	"leak.turn-allocations":          "still held by the relay after both peers closed",
}

// unreached are the findings export writes out whose reproducer does not
// reach the bug in its standalone world, with why; TestExportedReproducers
// checks that they still pass there, so that one that starts to reproduce
// moves into docs/findings/repro.
var unreached = map[string]string{
	"F23": "a wedge that 2 of the 3000 reference runs meet; the standalone world (in-memory signaling, no trace recorder, its own packet filter) does not reach the same interleaving, and why is not established",
	"F27": "a leak that needs a new SRTP stream's first packet to meet the close; the standalone world does not reach that timing, and why is not established",
}

// exportable lists the findings' minimal scenarios export can write out,
// with their reproducers, and why export refuses the others.
func exportable(t *testing.T) (files map[string][]byte, invariant map[string]string, refused map[string]string) {
	t.Helper()
	files, invariant, refused = map[string][]byte{}, map[string]string{}, map[string]string{}
	paths, err := filepath.Glob("../../docs/findings/F*-min.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no findings: %v", err)
	}
	for _, p := range paths {
		id := findingName.FindStringSubmatch(filepath.Base(p))[1]
		k, ok := knownIssue(id)
		if !ok {
			t.Fatalf("%s: no known issue %s", p, id)
		}
		sc, err := scenarios.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		src, err := export.Go(sc, export.Options{Finding: id, Invariant: k.Invariant, Source: filepath.Base(p), Note: k.Note})
		if err != nil {
			refused[id] = err.Error()
			continue
		}
		if why, ok := unreached[id]; ok {
			refused[id] = "exported, but the reproducer passes on v4.2.26: " + why
			continue
		}
		files[id], invariant[id] = src, k.Invariant
	}
	return files, invariant, refused
}

// TestExportedReproducers: docs/findings/repro holds the reproducer export
// writes today for every finding it can export, each fails on the Pion
// closesim pins with its check's own message, and passes on a release
// where closesim matrix shows its scenario without the finding.
func TestExportedReproducers(t *testing.T) {
	files, invariant, refused := exportable(t)
	if *updateRepro {
		writeRepro(t, files, refused)
	}
	for id, src := range files {
		got, err := os.ReadFile(filepath.Join(reproDir, id, id+"_test.go"))
		if err != nil || !bytes.Equal(got, src) {
			t.Errorf("docs/findings/repro/%s/%s_test.go is not what closesim export writes today (%v): go test ./cmd/closesim -run TestExportedReproducers -export.update", id, id, err)
		}
	}
	if testing.Short() {
		t.Skip("builds and runs every reproducer")
	}
	if len(files) < 5 {
		t.Fatalf("only %d findings exportable: %v", len(files), refused)
	}
	res := runRepro(t, copyRepro(t, nil), false)
	t.Run("unreached", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS(reproDir)); err != nil {
			t.Fatal(err)
		}
		for id := range unreached {
			k, _ := knownIssue(id)
			sc, err := scenarios.ReadFile("../../docs/findings/" + id + "-min.json")
			if err != nil {
				t.Fatal(err)
			}
			src, err := export.Go(sc, export.Options{Finding: id, Invariant: k.Invariant})
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(dir, id), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, id, id+"_test.go"), src, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		pkgs := []string{}
		for id := range unreached {
			pkgs = append(pkgs, "./"+id)
		}
		for id, r := range runRepro(t, dir, false, pkgs...) {
			if r.failed {
				t.Errorf("%s now fails in the standalone world: move it into docs/findings/repro (drop it from unreached):\n%s", id, r.output)
			}
		}
	})
	for id := range files {
		r := res[id]
		if !r.failed {
			t.Errorf("%s: the reproducer passed on the pinned Pion; output:\n%s\nrepro: (cd docs/findings/repro && go test -count=1 -v ./%s)", id, r.output, id)
		} else if !strings.Contains(r.output, reproSymptom[invariant[id]]) {
			t.Errorf("%s: the reproducer failed without its check's message %q; output:\n%s\nrepro: (cd docs/findings/repro && go test -count=1 -v ./%s)", id, reproSymptom[invariant[id]], r.output, id)
		}
		// A wedge is the finding's own only if its stacks show the frames
		// its known issue names.
		k, _ := knownIssue(id)
		for _, frame := range slices.Concat(k.Waiter, k.Holder, k.Stuck) {
			if r.failed && !strings.Contains(r.output, frame) {
				t.Errorf("%s: the reproducer's stacks lack %s, a frame of the finding's wedge", id, frame)
			}
		}
	}
	// Where closesim matrix shows a finding's scenario without it, its
	// reproducer passes too: F1 arrives with pion/sctp v1.9.3 (v4.2.10),
	// F6 with pion/ice v4.2.4 (v4.2.12), F24 with pion/ice v4.3.0
	// (v4.2.17), F30 with pion/srtp v3.1.2 (v4.2.23), by closesim bisect;
	// F12-min.json reaches F12 from v4.2.12 on (other scenarios reach it
	// on older releases too).
	for _, tt := range []struct{ id, release string }{
		// Not F21 on v4.2.20: its check passes there, but the test still
		// fails, on F13's leaked ICE agent (synctest's deadlock panic),
		// which its scenario meets on every release.
		{"F1", "v4.2.9"}, {"F6", "v4.2.11"}, {"F12", "v4.2.10"}, {"F24", "v4.2.16"}, {"F30", "v4.2.22"},
	} {
		t.Run(tt.id+" passes on "+tt.release, func(t *testing.T) {
			t.Parallel()
			offline := os.Getenv("CLOSESIM_DOWNLOAD") == ""
			reqs, err := releaseRequirements(tt.release, offline)
			if err != nil {
				t.Skipf("%s is not in the module cache (CLOSESIM_DOWNLOAD=1 downloads it): %v", tt.release, err)
			}
			res := runRepro(t, copyRepro(t, reqs), offline, "./"+tt.id)
			if r := res[tt.id]; r == nil || r.failed || r.passed != 1 {
				t.Errorf("%s did not pass on %s, where the matrix shows its scenario without it: %+v", tt.id, tt.release, r)
			}
		})
	}
}

// copyRepro copies the reproducer module into a temporary directory, with
// every pion module pinned at reqs (nil: as it is).
func copyRepro(t *testing.T, reqs []requirement) string {
	t.Helper()
	dir := t.TempDir()
	rewrite := func(b []byte) []byte { return b }
	if reqs != nil {
		rewrite = majorRewrites(reqs)
	}
	err := filepath.WalkDir(reproDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(reproDir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".go") {
			data = rewrite(data)
		}
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if reqs != nil {
		if err := pinModules(dir, reqs, os.Getenv("CLOSESIM_DOWNLOAD") == ""); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type reproResult struct {
	failed bool
	passed int // top-level tests that passed
	output string
}

// runRepro runs go test -json on pkgs (default ./...) of the module in dir
// and returns each package's result by its directory name.
func runRepro(t *testing.T, dir string, offline bool, pkgs ...string) map[string]*reproResult {
	t.Helper()
	if len(pkgs) == 0 {
		pkgs = []string{"./..."}
	}
	cmd := exec.Command("go", append([]string{"test", "-count=1", "-json"}, pkgs...)...)
	cmd.Dir = dir
	cmd.Env = append(goEnv(offline || os.Getenv("CLOSESIM_DOWNLOAD") == ""), "GOWORK=off")
	out, _ := cmd.Output() // failing tests are the point
	res := map[string]*reproResult{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var ev struct{ Action, Package, Test, Output string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Package == "" {
			continue
		}
		id := ev.Package[strings.LastIndex(ev.Package, "/")+1:]
		r := res[id]
		if r == nil {
			r = &reproResult{}
			res[id] = r
		}
		r.output += ev.Output
		switch {
		case ev.Action == "fail":
			r.failed = true
		case ev.Action == "pass" && ev.Test != "" && !strings.Contains(ev.Test, "/"):
			r.passed++
		}
	}
	if len(res) == 0 {
		t.Fatalf("go test in %s gave no results:\n%s", dir, out)
	}
	return res
}

// writeRepro rewrites docs/findings/repro: the module files, one directory
// per exportable finding, and a README listing what export refused.
func writeRepro(t *testing.T, files map[string][]byte, refused map[string]string) {
	t.Helper()
	if err := os.RemoveAll(reproDir); err != nil {
		t.Fatal(err)
	}
	mainMod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var mod strings.Builder
	mod.WriteString("// The reproducers closesim export wrote for docs/findings: each directory is one\n// standalone test that needs only Pion and the standard library.\nmodule github.com/closesim/closesim/docs/findings/repro\n\ngo 1.25\n\nrequire (\n")
	for _, r := range parseRequires(mainMod) {
		if r.path != "github.com/google/gofuzz" {
			mod.WriteString("\t" + r.path + " " + r.version + "\n")
		}
	}
	mod.WriteString(")\n")
	write := func(rel string, data []byte) {
		p := filepath.Join(reproDir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", []byte(mod.String()))
	sum, err := os.ReadFile("../../go.sum")
	if err != nil {
		t.Fatal(err)
	}
	write("go.sum", sum)
	ids := make([]string, 0, len(files))
	for id := range files {
		ids = append(ids, id)
		write(filepath.Join(id, id+"_test.go"), files[id])
	}
	slices.SortFunc(ids, compareIDs)
	var readme strings.Builder
	readme.WriteString("# Standalone reproducers\n\nWritten by `closesim export` (regenerate: `go test ./cmd/closesim -run TestExportedReproducers -export.update`).\nEach directory is one Go test that imports only Pion and the standard library; run one with\n`go test ./F2 -v` here, or copy its file into a Pion checkout. Each fails on the Pion release\nclosesim pins (TestExportedReproducers checks it) and passes once the bug is fixed.\n\n| finding | reproducer |\n|---|---|\n")
	for _, id := range ids {
		readme.WriteString("| " + id + " | [" + id + "/" + id + "_test.go](" + id + "/" + id + "_test.go) |\n")
	}
	rids := make([]string, 0, len(refused))
	for id := range refused {
		rids = append(rids, id)
	}
	slices.SortFunc(rids, compareIDs)
	readme.WriteString("\nNot exported yet (replay them with closesim: `closesim replay docs/findings/<ID>-min.json`):\n\n| finding | why |\n|---|---|\n")
	for _, id := range rids {
		readme.WriteString("| " + id + " | " + mdEscape(refused[id]) + " |\n")
	}
	write("README.md", []byte(readme.String()))
}
