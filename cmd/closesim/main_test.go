package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/closesim/closesim/coverage"
	"github.com/closesim/closesim/report"
)

// TestBadInputExitsTwo: bad input to any command (flags, scenario files of
// every kind of wrong, known-issue files, packages) exits 2 with one line,
// "closesim <command>: what is wrong", and nothing else: no usage text, no
// test-framework output, no stack trace.
func TestBadInputExitsTwo(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	known := file("known.json", "{not json")
	malformed := file("malformed.json", `{"version": 1, "steps": [`)
	mistyped := file("mistyped.json", `{"version": 1, "stepz": []}`)
	wrongType := file("wrongtype.json", `{"version": 1, "seed": "seven"}`)
	unknownKind := file("unknownkind.json", `{"version": 1, "topology": {"port_a": 10000, "port_b": 20000}, "steps": [{"kind": "teleport", "peer": "A"}]}`)
	invalid := file("invalid.json", `{"version": 1, "steps": []}`)
	badCorpus := file("corpus", "go test fuzz v1\nstring(\"x\")\n")
	badCorpusValue := file("corpus2", "go test fuzz v1\n[]byte(\"x)\n")
	sfu := file("sfu.json", `{"version": 1, "topology": {"port_a": 10000, "port_b": 20000, "sfu_clients": 1}, "steps": [{"kind": "close", "peer": "A", "mode": "close"}]}`)
	for _, tt := range []struct {
		args []string
		want string // in the one line, after "closesim <command>: "
	}{
		{[]string{"explode"}, `unknown command "explode"`},
		{[]string{"run", "-workers", "0"}, "-workers"},
		{[]string{"run", "-n", "-3"}, "-n must be >= 0"},
		{[]string{"run", "-n", "x"}, `invalid value "x" for flag -n`},
		{[]string{"run", "-shard", "4/4"}, "-shard must be i/n"},
		{[]string{"run", "-shard", "x"}, "-shard"},
		{[]string{"run", "-profile", "strict"}, `unknown profile "strict"`},
		{[]string{"run", "-known", known}, known},
		{[]string{"run", "-known", "/does/not/exist.json"}, "/does/not/exist.json"},
		{[]string{"run", "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"run", "extra"}, "extra"},
		{[]string{"run", "-resume", "/does/not/exist"}, "-resume /does/not/exist: not a sweep closesim run can resume"},
		{[]string{"run", "-pkg", "./does/not/exist", "-n", "1"}, "cannot build the test binary of ./does/not/exist"},
		{[]string{"bench", "-n", "0"}, "-n"},
		{[]string{"bench", "-iterations", "-1"}, "-iterations"},
		{[]string{"bench", "extra"}, "extra"},
		{[]string{"replay"}, "give either -seed N or one scenario FILE"},
		{[]string{"replay", "-seed", "3", "file.json"}, "give either -seed N or one scenario FILE"},
		{[]string{"replay", "/does/not/exist.json"}, "cannot read /does/not/exist.json"},
		{[]string{"replay", malformed}, malformed + ": decode scenario: unexpected EOF"},
		{[]string{"replay", mistyped}, mistyped + `: decode scenario: json: unknown field "stepz"`},
		{[]string{"replay", wrongType}, wrongType + ": decode scenario"},
		{[]string{"replay", unknownKind}, unknownKind + `: invalid scenario: steps[0].kind: unknown step kind "teleport"`},
		{[]string{"replay", invalid}, invalid + ": invalid scenario"},
		{[]string{"replay", badCorpus}, badCorpus + ": corpus file must hold one []byte(...) value"},
		{[]string{"replay", badCorpusValue}, badCorpusValue + ": corpus value"},
		{[]string{"replay", "-repeat", "0", "-seed", "1"}, "-repeat must be >= 1"},
		{[]string{"shrink", "-replays", "0", "-seed", "1"}, "-replays must be >= 1"},
		{[]string{"shrink", malformed}, malformed + ": decode scenario"},
		{[]string{"shrink", unknownKind}, unknownKind + ": invalid scenario"},
		{[]string{"list", "extra"}, "extra"},
		{[]string{"report"}, "merge"},
		{[]string{"report", "merge"}, "give at least one report directory"},
		{[]string{"report", "merge", "/does/not/exist"}, "/does/not/exist"},
		{[]string{"matrix"}, "-versions is required"},
		{[]string{"matrix", "-versions", "v4.2"}, `"v4.2" is not a release version`},
		{[]string{"matrix", "-versions", "v4.2.26..v4.2.10"}, "FROM <= TO"},
		{[]string{"matrix", "-versions", "v4.2.26", "-repeat", "0"}, "-repeat must be >= 1"},
		{[]string{"matrix", "-versions", "v4.2.26", "-n", "3", invalid}, "give scenario files or -n, not both"},
		{[]string{"matrix", "-versions", "v4.2.26", malformed}, malformed + ": decode scenario"},
		{[]string{"matrix", "-versions", "v4.2.26", "/does/not/exist.json"}, "/does/not/exist.json"},
		{[]string{"bisect"}, "-good and -bad are required"},
		{[]string{"bisect", "-good", "v4.2.26", "-bad", "v4.2.26", invalid}, "the same release"},
		{[]string{"bisect", "-good", "4.2.10", "-bad", "v4.2.26", invalid}, `"4.2.10" is not a release version`},
		{[]string{"bisect", "-good", "v4.2.10", "-bad", "v4.2.26"}, "give one scenario FILE or -seed N"},
		{[]string{"bisect", "-good", "v4.2.10", "-bad", "v4.2.26", "-seed", "1", invalid}, "not both"},
		{[]string{"bisect", "-good", "v4.2.10", "-bad", "v4.2.26", unknownKind}, unknownKind + ": invalid scenario"},
		{[]string{"browser", "-n", "0"}, "-n must be >= 1"},
		{[]string{"browser", "-repeat", "0"}, "-repeat must be >= 1"},
		{[]string{"browser", "-window", "0s"}, "-window must be > 0"},
		{[]string{"browser", "extra"}, "unexpected arguments: extra"},
		{[]string{"browser", "-file", "/nonexistent/s.json"}, "-file: read browser scenario: open /nonexistent/s.json: no such file or directory"},
		{[]string{"browser", "-rewrite", "-out", "/nonexistent/closesim-browser"}, "-rewrite: open /nonexistent/closesim-browser/browser.json: no such file or directory"},
		{[]string{"export"}, "give one scenario FILE"},
		{[]string{"export", malformed}, malformed + ": decode scenario"},
		{[]string{"export", "../../docs/findings/seed-3.json"}, "cannot tell the finding from the file name"},
		{[]string{"export", "-finding", "F999", "../../docs/findings/F2-min.json"}, "no known issue F999"},
		{[]string{"export", "-o", "x.go", "../../docs/findings/F2-min.json"}, "must end in _test.go"},
		{[]string{"export", "-o", "-", "-finding", "F2", sfu}, "topology.sfu_clients: export cannot write this out yet"},
		{[]string{"export", "-o", "-", "-invariant", "sfu.closed-all", "../../docs/findings/F2-min.json"}, `invariant "sfu.closed-all"`},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out := runCapturingStderr(t, tt.args)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, out)
			}
			prefix := "closesim " + tt.args[0] + ": "
			if tt.args[0] == "explode" {
				prefix = "closesim: "
			}
			line := strings.TrimSuffix(out, "\n")
			if strings.Contains(line, "\n") || !strings.HasPrefix(line, prefix) || !strings.Contains(line, tt.want) {
				t.Errorf("stderr %q, want one line starting %q that says %q", out, prefix, tt.want)
			}
			for _, bad := range []string{"goroutine ", "panic", "--- FAIL", "=== RUN"} {
				if strings.Contains(out, bad) {
					t.Errorf("stderr has %q: %s", bad, out)
				}
			}
		})
	}
}

// runCapturingStderr runs closesim with args and returns its exit code
// and what it wrote to stderr.
func runCapturingStderr(t *testing.T, args []string) (int, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				done <- b.String()
				return
			}
		}
	}()
	code := run(args)
	os.Stderr = old
	w.Close()
	return code, <-done
}

// TestHelpListsEveryFlag: a command's -h lists each of its flags with a
// usage line that gives the default, zero defaults included.
func TestHelpListsEveryFlag(t *testing.T) {
	for _, tt := range []struct {
		args  []string
		flags []string
	}{
		{[]string{"run", "-h"}, []string{"-n", "-seed", "-workers", "-shard", "-known", "-out", "-cover", "-pkg", "-test", "-watchdog", "-timeout", "-shrink"}},
		{[]string{"replay", "-h"}, []string{"-seed", "-repeat", "-pkg", "-test"}},
		{[]string{"shrink", "-h"}, []string{"-seed", "-out", "-replays", "-pkg", "-test"}},
		{[]string{"bench", "-h"}, []string{"-n", "-iterations"}},
		{[]string{"report", "merge", "-h"}, []string{"-out"}},
		{[]string{"matrix", "-h"}, []string{"-versions", "-n", "-seed", "-repeat", "-known", "-profile", "-cache", "-offline", "-workers", "-out", "-pkg", "-test", "-watchdog", "-timeout", "-quiet"}},
		{[]string{"bisect", "-h"}, []string{"-good", "-bad", "-seed", "-repeat", "-known", "-cache", "-offline", "-out", "-pkg", "-test"}},
		{[]string{"export", "-h"}, []string{"-finding", "-invariant", "-package", "-o"}},
		{[]string{"browser", "-h"}, []string{"-pkg", "-test", "-n", "-seed", "-repeat", "-window", "-out", "-file", "-rewrite"}},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out := runCapturingStderr(t, tt.args)
			if code != exitOK {
				t.Errorf("exit %d, want 0", code)
			}
			lines := strings.Split(out, "\n")
			listed := map[string]bool{}
			for i, l := range lines {
				if !strings.HasPrefix(l, "  -") {
					continue
				}
				name, _, _ := strings.Cut(strings.TrimSpace(l), " ")
				listed[name] = true
				if i+1 >= len(lines) || !strings.Contains(lines[i+1], "(default ") {
					t.Errorf("flag %s: no default in its usage line", name)
				}
			}
			for _, f := range tt.flags {
				if !listed[f] {
					t.Errorf("flag %s not listed:\n%s", f, out)
				}
			}
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"run", "-h"}, {"replay", "-h"}, {"shrink", "-h"}, {"list", "-h"}, {"report", "merge", "-h"}, {"bench", "-h"}, {"matrix", "-h"}, {"bisect", "-h"}, {"export", "-h"}, {"browser", "-h"}} {
		if got := run(args); got != exitOK {
			t.Errorf("closesim %v exited %d, want 0", args, got)
		}
	}
}

// TestRunSurvivesAKilledWorker runs a real sweep through the test binary:
// the worker running seed 2 is killed mid-scenario; every other seed must
// still have its result and the killed one is reported as a crash.
func TestRunSurvivesAKilledWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the fuzz test binary")
	}
	out := t.TempDir()
	code := run([]string{"run", "-n", "6", "-workers", "2", "-kill-seed", "2", "-quiet", "-shrink=false", "-out", out})
	if code != exitFailures {
		t.Fatalf("exit %d, want %d (the killed worker is a failure)", code, exitFailures)
	}
	rs := readResults(t, filepath.Join(out, "results.jsonl"))
	if len(rs) != 6 {
		t.Fatalf("%d results, want 6", len(rs))
	}
	for _, r := range rs {
		if (r.Seed == 2) != (r.Outcome == "crash") {
			t.Errorf("seed %d: outcome %s", r.Seed, r.Outcome)
		}
		if r.Repro == "" {
			t.Errorf("seed %d has no repro line", r.Seed)
		}
	}
	var suites struct {
		XMLName xml.Name `xml:"testsuites"`
	}
	data, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	if err != nil || xml.Unmarshal(data, &suites) != nil {
		t.Fatalf("junit.xml missing or not XML: %v", err)
	}
	var summary report.Summary
	data, err = os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil || json.Unmarshal(data, &summary) != nil {
		t.Fatalf("summary.json missing or not JSON: %v", err)
	}
	if c := summary.Coverage; c.Reachable < 30 || c.Hit == 0 || c.Hit+len(c.Missing) != c.Reachable {
		t.Errorf("coverage not measured against the documented space: %+v", c)
	}
}

// TestAgainstAUserPackage drives the example service's package the way a
// user drives theirs: its clean suite passes, its broken fixture's sweep
// fails with repro lines and shrunk scenarios naming that package and
// test, replay exits by the seed's verdict, and a missing test is a usage
// error.
func TestAgainstAUserPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example's test binary")
	}
	const pkg = "../../examples/echo"
	out := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"clean sweep", []string{"run", "-pkg", pkg, "-test", "TestCloseSweep", "-n", "4", "-workers", "2", "-quiet", "-out", filepath.Join(out, "clean")}, exitOK},
		{"broken sweep", []string{"run", "-pkg", pkg, "-test", "TestBrokenCloseSweep", "-n", "3", "-workers", "2", "-quiet", "-out", filepath.Join(out, "broken")}, exitFailures},
		{"replay a failing seed", []string{"replay", "-pkg", pkg, "-test", "TestBrokenCloseSweep", "-seed", "0"}, exitFailures},
		// Seed 3 of the broken sweep closes before the fixture's pinger
		// starts (closesim run -pkg ./examples/echo -test
		// TestBrokenCloseSweep -n 20: seeds 0, 1, 2, 9, 12, 16 fail).
		{"replay a passing seed", []string{"replay", "-pkg", pkg, "-test", "TestBrokenCloseSweep", "-seed", "3"}, exitOK},
		{"no such test", []string{"run", "-pkg", pkg, "-test", "TestNoSuchSuite", "-n", "1"}, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.args); got != tc.want {
				t.Fatalf("closesim %v exited %d, want %d", tc.args, got, tc.want)
			}
		})
	}
	rs := readResults(t, filepath.Join(out, "broken", "results.jsonl"))
	failed := 0
	for _, r := range rs {
		if !r.Failed() {
			continue
		}
		failed++
		if ids := r.FailedIDs(); ids[0] != "leak.goroutines" {
			t.Errorf("seed %d failed %v, want leak.goroutines", r.Seed, ids)
		}
		if want := "closesim replay -pkg ./examples/echo -test TestBrokenCloseSweep -seed"; !strings.Contains(r.Repro, want) {
			t.Errorf("seed %d repro %q lacks %q", r.Seed, r.Repro, want)
		}
		if r.Shrunk == nil || len(r.Shrunk.Steps) >= len(r.Scenario.Steps) {
			t.Errorf("seed %d: shrunk %v, want fewer than %d steps", r.Seed, r.Shrunk, len(r.Scenario.Steps))
		}
	}
	if len(rs) != 3 || failed == 0 {
		t.Errorf("%d results, %d failed; want 3 with failures", len(rs), failed)
	}
	for _, name := range []string{"summary.json", "junit.xml", "summary.md"} {
		if _, err := os.Stat(filepath.Join(out, "broken", name)); err != nil {
			t.Error(err)
		}
	}
}

// TestHarnessErrorFails: a sweep whose runs end in a harness error (the
// world could not be built) exits 1, and every report counts those runs
// failed: results.jsonl, summary.json, junit.xml (as errors), summary.md.
func TestHarnessErrorFails(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example's test binary")
	}
	out := t.TempDir()
	args := []string{"run", "-pkg", "../../examples/echo", "-test", "TestUnbuildableSweep", "-n", "2", "-workers", "1", "-quiet", "-shrink=false", "-out", out}
	if code := run(args); code != exitFailures {
		t.Fatalf("closesim %v exited %d, want %d", args, code, exitFailures)
	}
	rs := readResults(t, filepath.Join(out, "results.jsonl"))
	if len(rs) != 2 {
		t.Fatalf("%d results, want 2", len(rs))
	}
	for _, r := range rs {
		if r.Outcome != "error" || !r.Failed() {
			t.Errorf("seed %d: outcome %s, failed %v; want error, failed", r.Seed, r.Outcome, r.Failed())
		}
	}
	var summary report.Summary
	if data, err := os.ReadFile(filepath.Join(out, "summary.json")); err != nil || json.Unmarshal(data, &summary) != nil {
		t.Fatalf("summary.json: %v", err)
	}
	if summary.Verdicts.Fail != 2 {
		t.Errorf("summary.json verdicts %+v, want 2 failed", summary.Verdicts)
	}
	var suites report.JUnitSuites
	if data, err := os.ReadFile(filepath.Join(out, "junit.xml")); err != nil || xml.Unmarshal(data, &suites) != nil {
		t.Fatalf("junit.xml: %v", err)
	}
	if suites.Errors != 2 {
		t.Errorf("junit.xml errors=%d failures=%d, want 2 errors", suites.Errors, suites.Failures)
	}
	md, err := os.ReadFile(filepath.Join(out, "summary.md"))
	if err != nil || !strings.Contains(string(md), "| 2 | 0 | 0 | 2 |") {
		t.Errorf("summary.md does not count 2 failures: %v\n%.400s", err, md)
	}
}

// readResults reads a report's results.jsonl.
func readResults(t *testing.T, path string) []report.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs, err := report.ReadResults(f)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestRunCover: a -cover sweep builds its workers with coverage of Pion's
// modules and writes the teardown coverage beside summary.json, with the
// headline in summary.md.
func TestRunCover(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a coverage test binary")
	}
	out := t.TempDir()
	if code := run([]string{"run", "-n", "4", "-workers", "1", "-quiet", "-shrink=false", "-cover", "-out", out}); code != exitOK && code != exitFailures {
		t.Fatalf("exit %d", code)
	}
	var tc coverage.TeardownCoverage
	data, err := os.ReadFile(filepath.Join(out, report.TeardownJSONFile))
	if err != nil || json.Unmarshal(data, &tc) != nil {
		t.Fatalf("%s: %v", report.TeardownJSONFile, err)
	}
	var webrtc *coverage.ModuleCoverage
	for i := range tc.Modules {
		if tc.Modules[i].Module == "github.com/pion/webrtc/v4" {
			webrtc = &tc.Modules[i]
		}
	}
	if webrtc == nil || webrtc.Covered == 0 || webrtc.TeardownCovered == 0 || webrtc.TeardownCovered > webrtc.TeardownStatements || webrtc.Covered > webrtc.Statements {
		t.Fatalf("webrtc teardown coverage %+v, want some covered statements, never more than there are", webrtc)
	}
	found := false
	for _, f := range tc.Teardown {
		found = found || f.Func == "(*PeerConnection).Close"
	}
	if !found {
		t.Error("(*PeerConnection).Close is not among the teardown functions")
	}
	for _, name := range []string{report.TeardownMDFile, "teardown-coverage.html"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Error(err)
		}
	}
	if md, _ := os.ReadFile(filepath.Join(out, report.MarkdownFile)); !strings.Contains(string(md), "Teardown coverage of Pion") {
		t.Error("summary.md has no teardown coverage headline")
	}
}

// TestMergeCover: report merge merges the shards' coverage counters: the
// merged teardown coverage covers at least what each shard did.
func TestMergeCover(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a coverage test binary")
	}
	dir := t.TempDir()
	covered := func(d string) int {
		var tc coverage.TeardownCoverage
		data, err := os.ReadFile(filepath.Join(d, report.TeardownJSONFile))
		if err != nil || json.Unmarshal(data, &tc) != nil {
			t.Fatalf("%s: %v", d, err)
		}
		return tc.Total().Covered
	}
	var shards []string
	most := 0
	for i := range 2 {
		out := filepath.Join(dir, fmt.Sprintf("shard-%d", i))
		if code := run([]string{"run", "-n", "6", "-shard", fmt.Sprintf("%d/2", i), "-workers", "1", "-quiet", "-shrink=false", "-cover", "-out", out}); code != exitOK && code != exitFailures {
			t.Fatalf("shard %d: exit %d", i, code)
		}
		shards = append(shards, out)
		most = max(most, covered(out))
	}
	merged := filepath.Join(dir, "merged")
	if code := run(append([]string{"report", "merge", "-out", merged}, shards...)); code != exitOK && code != exitFailures {
		t.Fatalf("merge: exit %d", code)
	}
	if got := covered(merged); got < most {
		t.Errorf("merged coverage %d statements, below a shard's %d", got, most)
	}
}

// TestInterruptAndResume: a sweep interrupted by SIGINT (the -interrupt-after
// hook sends it to this process after 4 results) stops its workers, exits 4
// and leaves every report, marked as interrupted, with the results that
// finished; -resume continues it and ends with the same results (per seed:
// outcome and status) and counts as an uninterrupted sweep of the same
// seeds.
func TestInterruptAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the fuzz test binary")
	}
	const n = 12
	base := []string{"run", "-n", fmt.Sprint(n), "-workers", "2", "-quiet", "-shrink=false"}
	whole, cut := t.TempDir(), t.TempDir()
	if code := run(append(base, "-out", whole)); code != exitOK && code != exitFailures {
		t.Fatalf("uninterrupted sweep exited %d", code)
	}
	if code := run(append(base, "-interrupt-after", "4", "-out", cut)); code != exitInterrupted {
		t.Fatalf("interrupted sweep exited %d, want %d", code, exitInterrupted)
	}
	partial := readResults(t, filepath.Join(cut, "results.jsonl"))
	if len(partial) < 4 || len(partial) >= n {
		t.Fatalf("%d results after the interrupt, want at least 4 and fewer than %d", len(partial), n)
	}
	var sum report.Summary
	data, err := os.ReadFile(filepath.Join(cut, "summary.json"))
	if err != nil || json.Unmarshal(data, &sum) != nil {
		t.Fatalf("summary.json missing or not JSON: %v", err)
	}
	if !sum.Sweep.Interrupted || sum.Sweep.Planned != n || sum.Total != len(partial) {
		t.Errorf("summary header %+v, total %d: want interrupted, planned %d, %d results", sum.Sweep, sum.Total, n, len(partial))
	}
	for file, want := range map[string]string{"summary.md": "interrupted after", "junit.xml": `name="closesim.interrupted"`} {
		data, err := os.ReadFile(filepath.Join(cut, file))
		if err != nil || !strings.Contains(string(data), want) {
			t.Errorf("%s does not say %q (err %v)", file, want, err)
		}
	}
	if code := run([]string{"run", "-resume", cut, "-workers", "2", "-quiet"}); code != exitOK && code != exitFailures {
		t.Fatalf("resumed sweep exited %d", code)
	}
	// Per seed: the outcome and the verdict's status. Which known issues
	// a known run shows, and how often, can vary with scheduling (a TURN
	// deallocation racing the relay's shutdown); that is the sweep's
	// determinism check's business, not this test's.
	key := func(r report.Result) string { return fmt.Sprintf("seed %d: %s %s", r.Seed, r.Outcome, r.Status()) }
	a, b := readResults(t, filepath.Join(whole, "results.jsonl")), readResults(t, filepath.Join(cut, "results.jsonl"))
	if len(a) != n || len(b) != n {
		t.Fatalf("%d and %d results, want %d each", len(a), len(b), n)
	}
	wedgeDiffs := 0
	for i := range a {
		if a[i].Seed != b[i].Seed {
			t.Fatalf("result %d: seed %d and %d: each seed once, in order", i, a[i].Seed, b[i].Seed)
		}
		if key(a[i]) == key(b[i]) {
			continue
		}
		if a[i].Outcome == "wedge" || b[i].Outcome == "wedge" {
			// Whether a run reaches a Pion freeze (F1, F14...) can depend
			// on the scheduling of a loaded machine; the sweep's recheck
			// reports such divergence. Not what this test is about.
			t.Logf("uninterrupted %s, interrupted and resumed %s (a wedge: scheduling)", key(a[i]), key(b[i]))
			wedgeDiffs++
			continue
		}
		t.Errorf("uninterrupted %s, interrupted and resumed %s", key(a[i]), key(b[i]))
	}
	if wedgeDiffs > 2 {
		t.Errorf("%d seeds differ by a wedge", wedgeDiffs)
	}
	var sa, sb report.Summary
	for dir, s := range map[string]*report.Summary{whole: &sa, cut: &sb} {
		data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
		if err != nil || json.Unmarshal(data, s) != nil {
			t.Fatalf("%s/summary.json: %v", dir, err)
		}
	}
	if sb.Sweep.Interrupted || sb.Total != n || wedgeDiffs == 0 && (sa.Verdicts != sb.Verdicts || fmt.Sprint(sa.Outcomes) != fmt.Sprint(sb.Outcomes)) {
		t.Errorf("resumed summary: interrupted %v, verdicts %+v, outcomes %v; uninterrupted %+v, %v",
			sb.Sweep.Interrupted, sb.Verdicts, sb.Outcomes, sa.Verdicts, sa.Outcomes)
	}
}

// TestBrowserCommand runs closesim browser on one scenario against the
// machine's Chromium (skipped without one): the reports say what they
// are, and every run is in runs.jsonl.
func TestBrowserCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the fuzz test binary and drives Chromium")
	}
	if _, err := chromiumVersion(); err != nil {
		t.Skipf("browser tests need Chromium: %v", err)
	}
	out := t.TempDir()
	if code := run([]string{"browser", "-n", "1", "-seed", "2", "-repeat", "2", "-window", "500ms", "-out", out}); code != exitOK {
		t.Fatalf("closesim browser exited %d", code)
	}
	md, err := os.ReadFile(filepath.Join(out, "browser.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**Real time, not deterministic**", "1 scenarios, 2 runs (0 with a harness error)", "## The W3C close algorithm on each implementation's own close",
		"## closesim's invariants on both sides (profile w3c)", "| `close.states-at-return` |", "## W3C conformance table on each implementation"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("browser.md lacks %q:\n%s", want, md)
		}
	}
	runs, err := readBrowserRuns(filepath.Join(out, "runs.jsonl"))
	if err != nil || len(runs) != 2 || runs[0].Seed != 2 || runs[1].Rep != 1 {
		t.Errorf("runs.jsonl: %d runs (%v): %+v", len(runs), err, runs)
	}
	// -rewrite reports the same runs again, to the byte.
	if err := os.Remove(filepath.Join(out, "browser.md")); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"browser", "-rewrite", "-out", out}); code != exitOK {
		t.Fatalf("closesim browser -rewrite exited %d", code)
	}
	if again, err := os.ReadFile(filepath.Join(out, "browser.md")); err != nil || string(again) != string(md) {
		t.Errorf("-rewrite wrote another browser.md (%v):\n%s", err, again)
	}
}
