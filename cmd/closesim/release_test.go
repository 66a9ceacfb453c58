package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/report"
)

func TestParseRequires(t *testing.T) {
	gomod := `module github.com/pion/webrtc/v4

go 1.20

require github.com/pion/datachannel v1.5.8 // a comment

require (
	github.com/pion/ice/v4 v4.0.1
	// github.com/pion/commented v1.0.0
	github.com/pion/transport/v3 v3.0.7
	golang.org/x/net v0.26.0 // indirect
)

replace github.com/pion/ice/v4 => ../ice
`
	got := parseRequires([]byte(gomod))
	want := []requirement{
		{"github.com/pion/datachannel", "v1.5.8"},
		{"github.com/pion/ice/v4", "v4.0.1"},
		{"github.com/pion/transport/v3", "v3.0.7"},
		{"golang.org/x/net", "v0.26.0"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("parseRequires = %v, want %v", got, want)
	}
}

// TestMajorRewrites: a release's majors of transport, turn and stun
// replace whatever major closesim's sources import, and nothing else.
func TestMajorRewrites(t *testing.T) {
	rewrite := majorRewrites([]requirement{
		{"github.com/pion/webrtc/v4", "v4.2.10"},
		{"github.com/pion/transport/v4", "v4.0.1"},
		{"github.com/pion/turn/v4", "v4.1.1"},
		{"github.com/pion/stun/v3", "v3.0.0"},
	})
	for _, tt := range []struct{ in, want string }{
		{`"github.com/pion/transport/v5/vnet"`, `"github.com/pion/transport/v4/vnet"`},
		{`"github.com/pion/transport/v5"`, `"github.com/pion/transport/v4"`},
		{`"github.com/pion/turn/v5"`, `"github.com/pion/turn/v4"`},
		{`"github.com/pion/stun/v4"`, `"github.com/pion/stun/v3"`},
		{`"github.com/pion/webrtc/v4"`, `"github.com/pion/webrtc/v4"`},
		{`"github.com/pion/transporter/v5"`, `"github.com/pion/transporter/v5"`},
		{`"github.com/pion/ice/v4"`, `"github.com/pion/ice/v4"`},
	} {
		if got := string(rewrite([]byte(tt.in))); got != tt.want {
			t.Errorf("rewrite(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestExpandVersions(t *testing.T) {
	for _, tt := range []struct {
		spec    string
		want    []string
		wantErr string
	}{
		{"v4.2.10", []string{"v4.2.10"}, ""},
		{"v4.2.26, v4.2.3,v4.2.10,v4.2.3", []string{"v4.2.3", "v4.2.10", "v4.2.26"}, ""},
		{"v4.2.26..v4.2.26", []string{"v4.2.26"}, ""}, // in every module cache that built closesim
		{"v4.2", nil, `"v4.2" is not a release version`},
		{"v4.2.26..", nil, `"" is not a release version`},
		{"v4.2.26..v4.2.10", nil, "FROM <= TO"},
		{",", nil, "no release given"},
		{"v4.9.0..v4.9.9", nil, "lists no release"},
	} {
		got, err := expandVersions(tt.spec, true)
		if tt.wantErr != "" {
			var ue usageError
			if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("expandVersions(%q) = %v, %v; want a usage error saying %q", tt.spec, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("expandVersions(%q) = %v, %v; want %v", tt.spec, got, err, tt.want)
		}
	}
}

// TestBisectSearch: the search finds the first version whose verdict
// differs, in O(log n) judgements, and skips versions that do not build.
func TestBisectSearch(t *testing.T) {
	var vs []string
	for i := range 20 {
		vs = append(vs, fmt.Sprintf("v4.2.%d", i))
	}
	for _, tt := range []struct {
		name    string
		flip    int   // first index with the new verdict
		broken  []int // indexes that do not build
		want    bisectRange
		maxAsks int
	}{
		{"middle", 7, nil, bisectRange{Last: "v4.2.6", First: "v4.2.7"}, 5},
		{"second", 1, nil, bisectRange{Last: "v4.2.0", First: "v4.2.1"}, 5},
		{"last", 19, nil, bisectRange{Last: "v4.2.18", First: "v4.2.19"}, 5},
		{"skip around", 7, []int{9, 4}, bisectRange{Last: "v4.2.6", First: "v4.2.7"}, 8},
		{"skip at the change", 7, []int{6}, bisectRange{Last: "v4.2.5", First: "v4.2.7", Skipped: []string{"v4.2.6"}}, 8},
	} {
		t.Run(tt.name, func(t *testing.T) {
			asks := 0
			got := bisectSearch(vs, "known F2", func(v string) (string, error) {
				asks++
				i := slices.Index(vs, v)
				if slices.Contains(tt.broken, i) {
					return "", errors.New("does not build")
				}
				if i >= tt.flip {
					return "pass", nil
				}
				return "known F2", nil
			})
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("bisectSearch = %+v, want %+v", got, tt.want)
			}
			if asks > tt.maxAsks {
				t.Errorf("asked %d verdicts, want at most %d", asks, tt.maxAsks)
			}
		})
	}
}

// fakeWorld is a Pion release history for bisect: each webrtc release's
// pion modules, and a verdict function of the modules built.
type fakeWorld struct {
	reqs    map[string][]requirement
	verdict func(mods map[string]string) string
	built   []string
}

func (w *fakeWorld) setup() *releaseSetup {
	quiet := true
	s := &releaseSetup{rf: releaseFlags{quiet: &quiet}, scen: []scenarioRef{{name: "F9-min.json"}}}
	s.requirements = func(spec buildSpec) ([]requirement, error) {
		reqs, ok := w.reqs[spec.webrtc]
		if !ok {
			return nil, fmt.Errorf("no release %s", spec.webrtc)
		}
		out := slices.Clone(reqs)
		for i, r := range out {
			if v, ok := spec.with[r.path]; ok {
				out[i].version = v
			}
		}
		return out, nil
	}
	s.run = func(spec buildSpec) releaseRun {
		w.built = append(w.built, spec.String())
		reqs, err := s.requirements(spec)
		if err != nil {
			return releaseRun{Release: spec.String(), Refused: err.Error()}
		}
		mods := map[string]string{}
		for _, r := range reqs {
			mods[r.path] = r.version
		}
		return releaseRun{Release: spec.String(), Cells: map[string]cell{"F9-min.json": {Verdict: w.verdict(mods), Runs: 1}}}
	}
	s.versions = func(path string) ([]string, error) {
		if path == "github.com/pion/webrtc/v4" {
			return sortedKeys(mapOf(w.reqs)), nil
		}
		var vs []string
		for i := range 10 {
			vs = append(vs, fmt.Sprintf("v4.0.%d", i))
		}
		return vs, nil
	}
	return s
}

func mapOf(m map[string][]requirement) map[string]string {
	out := map[string]string{}
	for k := range m {
		out[k] = k
	}
	return out
}

// history builds releases v4.2.0..v4.2.9 where v4.2.6 moves ice from
// v4.0.1 to v4.0.5 and sctp from v1.8.0 to v1.8.1.
func history() map[string][]requirement {
	reqs := map[string][]requirement{}
	for i := range 10 {
		v := fmt.Sprintf("v4.2.%d", i)
		ice, sctp := "v4.0.1", "v1.8.0"
		if i >= 6 {
			ice, sctp = "v4.0.5", "v1.8.1"
		}
		reqs[v] = []requirement{{"github.com/pion/webrtc/v4", v}, {"github.com/pion/ice/v4", ice}, {"github.com/pion/sctp", sctp}}
	}
	return reqs
}

// TestBisectTwoLevels: the release bisect finds v4.2.6; the second level
// finds which module it moved flips the verdict, and its first version
// that does, or says the change is webrtc's own.
func TestBisectTwoLevels(t *testing.T) {
	for _, tt := range []struct {
		name       string
		verdict    func(mods map[string]string) string
		wantModule string
		wantFirst  string // of the module bisect
		wantSays   string
	}{
		{"ice fixed it", func(m map[string]string) string {
			if compareSemver(m["github.com/pion/ice/v4"], "v4.0.3") >= 0 {
				return "pass"
			}
			return "known F9"
		}, "github.com/pion/ice/v4", "v4.0.3", "github.com/pion/ice/v4 alone flips it: first at github.com/pion/ice/v4 v4.0.3"},
		{"webrtc fixed it", func(m map[string]string) string {
			if compareSemver(m["github.com/pion/webrtc/v4"], "v4.2.6") >= 0 {
				return "pass"
			}
			return "known F9"
		}, "", "", "none of the pion modules it moved"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := &fakeWorld{reqs: history(), verdict: tt.verdict}
			rep, err := w.setup().bisect("v4.2.0", "v4.2.9")
			if err != nil {
				t.Fatal(err)
			}
			if rep.Release.Last != "v4.2.5" || rep.Release.First != "v4.2.6" {
				t.Errorf("release range %+v, want v4.2.5..v4.2.6", rep.Release)
			}
			if rep.ReleaseNotes != "https://github.com/pion/webrtc/releases/tag/v4.2.6" {
				t.Errorf("release notes %s", rep.ReleaseNotes)
			}
			if rep.Module != tt.wantModule {
				t.Errorf("module %q, want %q", rep.Module, tt.wantModule)
			}
			if tt.wantFirst != "" && (rep.ModuleRange == nil || rep.ModuleRange.First != tt.wantFirst) {
				t.Errorf("module range %+v, want first %s", rep.ModuleRange, tt.wantFirst)
			}
			if tt.wantModule != "" && rep.ModuleNotes != "https://github.com/pion/ice/releases/tag/"+tt.wantFirst {
				t.Errorf("module notes %s", rep.ModuleNotes)
			}
			if !strings.Contains(rep.Conclusion, tt.wantSays) || !strings.Contains(rep.Conclusion, `"known F9" on v4.2.5 to "pass" on v4.2.6`) {
				t.Errorf("conclusion %q, want it to say %q", rep.Conclusion, tt.wantSays)
			}
			if len(w.built) > 14 {
				t.Errorf("built %d times: %v", len(w.built), w.built)
			}
		})
	}
	w := &fakeWorld{reqs: history(), verdict: func(map[string]string) string { return "known F9" }}
	var ue usageError
	if _, err := w.setup().bisect("v4.2.0", "v4.2.9"); !errors.As(err, &ue) || !strings.Contains(err.Error(), "nothing to bisect") {
		t.Errorf("same verdict on both ends: %v, want a usage error saying nothing to bisect", err)
	}
}

// TestCellVerdict: a run's verdict names what a matrix compares, and a
// cell keeps the most frequent one with how often it occurred.
func TestCellVerdict(t *testing.T) {
	ok := string(facts.OutcomeOK)
	known := func(ids ...string) report.Result {
		r := report.Result{Outcome: ok}
		for _, id := range ids {
			r.Verdict.Known = append(r.Verdict.Known, invariants.Labeled{Issue: invariants.KnownIssue{ID: id}})
		}
		return r
	}
	failing := report.Result{Outcome: ok, Verdict: invariants.Verdict{Fail: []invariants.Violation{{Invariant: "local.closed-states", Message: "SCTP is open"}}}}
	wedge := report.Result{Outcome: string(facts.OutcomeWedge), Headline: "A: Close blocked", Verdict: invariants.Verdict{Fail: []invariants.Violation{{Invariant: "harness.no-wedge"}}}}
	for _, tt := range []struct {
		r          report.Result
		key, label string
	}{
		{report.Result{Outcome: ok}, "pass", "pass"},
		{known("F10", "F2", "F2"), "known F2 F10", "F2 F10"},
		{failing, "fail local.closed-states", "Fail local.closed-states"},
		{wedge, "wedge harness.no-wedge", "Wedge harness.no-wedge"},
		{report.Result{Outcome: report.OutcomeCrash, Diagnosis: "worker died\nmore"}, "crash", "Crash"},
	} {
		key, _ := cellVerdict(tt.r)
		if key != tt.key {
			t.Errorf("cellVerdict = %q, want %q", key, tt.key)
		}
		if got := tally([]report.Result{tt.r}).label(); got != tt.label {
			t.Errorf("label = %q, want %q", got, tt.label)
		}
	}
	c := tally([]report.Result{known("F2"), {Outcome: ok}, known("F2")})
	if c.Verdict != "known F2" || c.label() != "F2 (2/3)" || c.Counts["pass"] != 1 {
		t.Errorf("tally = %+v (label %q), want known F2 in 2 of 3", c, c.label())
	}
	if _, d := cellVerdict(wedge); d != "A: Close blocked" {
		t.Errorf("wedge detail %q, want its headline", d)
	}
	if (cell{}).label() != "—" {
		t.Errorf("an empty cell's label is %q", (cell{}).label())
	}
}

// TestReleaseFreeKnown: the matrix's known issues are -known's with their
// releases lists removed, a later file's entry replacing an earlier one of
// the same ID, every other field kept.
func TestReleaseFreeKnown(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.json")
	b := filepath.Join(dir, "b.json")
	os.WriteFile(a, []byte(`[{"id": "F2", "invariant": "local.closed-states", "signature": "ICE", "releases": ["v4.2.26"], "note": "a"},
		{"id": "F3", "invariant": "local.closed-states", "signature": "SCTP", "releases": ["v4.2.26"], "note": "a"}]`), 0o644)
	os.WriteFile(b, []byte(`[{"id": "F3", "invariant": "local.closed-states", "signature": "DTLS", "note": "b"}]`), 0o644)
	path, err := releaseFreeKnown(a+","+b, dir, "pion", filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "releases") {
		t.Errorf("releases kept:\n%s", data)
	}
	issues, err := invariants.LoadKnown(path, invariants.ForRelease("v4.2.10"))
	if err != nil {
		t.Fatal(err)
	}
	if len(issues) != 2 || issues[0].ID != "F2" || issues[0].Signature != "ICE" || issues[1].Signature != "DTLS" {
		t.Errorf("issues %+v, want F2 (ICE) and b's F3 (DTLS), on any release", issues)
	}
	if p, err := releaseFreeKnown("", dir, "pion", filepath.Join(dir, "none.json")); p != "" || err != nil {
		t.Errorf(`-known "": %q, %v`, p, err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"id": "x"}`), 0o644)
	var ue usageError
	if _, err := releaseFreeKnown(bad, dir, "pion", filepath.Join(dir, "x.json")); !errors.As(err, &ue) {
		t.Errorf("a known file that is not an array: %v, want a usage error", err)
	}
}

// TestMatrixOffline builds closesim's sweep against the Pion it pins,
// from the module cache alone (no network), through a scratch copy of the
// module, and runs findings' scenarios on it: each cell must name the
// finding its file reproduces.
func TestMatrixOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the fuzz test binary in a scratch module")
	}
	out := t.TempDir()
	files := []string{"../../docs/findings/F2-min.json", "../../docs/findings/F1-min.json", "../../docs/findings/seed-4.json"}
	args := append([]string{"matrix", "-versions", "v4.2.26", "-offline", "-quiet", "-workers", "2", "-out", out, "-cache", t.TempDir()}, files...)
	if code := run(args); code != exitOK {
		t.Fatalf("closesim %v exited %d", args, code)
	}
	m := readMatrix(t, out)
	if len(m.Releases) != 1 || m.Releases[0].Refused != "" || m.Releases[0].Modules["github.com/pion/webrtc/v4"] != "v4.2.26" {
		t.Fatalf("releases %+v", m.Releases)
	}
	for name, want := range map[string]string{"F2-min.json": "F2", "F1-min.json": "F1", "seed-4.json": "pass"} {
		got := m.Releases[0].Cells[name]
		if got.Runs != 1 || !slices.Contains(strings.Fields(strings.TrimPrefix(got.Verdict, "known ")), want) {
			t.Errorf("%s on v4.2.26: %+v, want it to show %s", name, got, want)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "matrix.md"))
	if err != nil || !strings.Contains(string(md), "| F2-min.json | F2 |") {
		t.Errorf("matrix.md lacks the F2 row (%v):\n%s", err, md)
	}
	if _, err := os.Stat(filepath.Join(out, "v4.2.26", "summary.json")); err != nil {
		t.Errorf("no per-release sweep report: %v", err)
	}
}

// TestUnseenWarnings: an issue the reference sweep met often enough warns
// when a sweep of the same suite never met it, and only then.
func TestUnseenWarnings(t *testing.T) {
	issues := []invariants.KnownIssue{
		{ID: "F3", Seen: &invariants.SeenRate{Runs: 3000, Hits: 41}},
		{ID: "F9", Seen: &invariants.SeenRate{Runs: 3000, Hits: 2}}, // too rare for 3000 runs
		{ID: "F2", Seen: &invariants.SeenRate{Runs: 3000, Hits: 300}},
		{ID: "F8"}, // no reference
	}
	sweep := func(n int, known ...string) report.Sweep {
		var sw report.Sweep
		for i := range n {
			r := report.Result{Seed: uint64(i), Outcome: string(facts.OutcomeOK)}
			if i < len(known) {
				r.Verdict.Known = []invariants.Labeled{{Issue: invariants.KnownIssue{ID: known[i]}}}
			}
			sw.Results = append(sw.Results, r)
		}
		return sw
	}
	for _, tt := range []struct {
		name string
		sw   report.Sweep
		want []string // IDs warned about
	}{
		{"F2 met, F3 not", sweep(3000, "F2"), []string{"F3"}},
		{"both met", sweep(3000, "F2", "F3"), nil},
		{"too small to expect F3", sweep(200), []string{"F2"}},
		{"tiny", sweep(20), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := unseenWarnings(tt.sw, issues)
			var ids []string
			for _, w := range got {
				id, _, _ := strings.Cut(w, " ")
				ids = append(ids, id)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("warnings %q, want for %v", got, tt.want)
			}
		})
	}
	w := unseenWarnings(sweep(3000, "F2"), issues)
	if len(w) != 1 || !strings.Contains(w[0], "F3 not seen in 3000 runs, though the reference sweep met it in 41 of 3000") || !strings.Contains(w[0], "fixed upstream?") {
		t.Errorf("warning %q", w)
	}
}

// TestShippedKnownIssuesParse: the known issues closesim ships parse, for
// the pinned release too, and every reference rate is of the same sweep.
func TestShippedKnownIssuesParse(t *testing.T) {
	sw := report.Sweep{PionVersion: "pion/webrtc v4.2.26"}
	issues := sweepIssues(sw, "auto")
	if len(issues) == 0 {
		t.Fatal("no shipped known issues apply to v4.2.26")
	}
	runs := 0
	if old := sweepIssues(report.Sweep{PionVersion: "pion/webrtc v4.2.16"}, "auto"); len(old) >= len(issues) || slices.ContainsFunc(old, func(k invariants.KnownIssue) bool { return k.ID == "F21" }) {
		t.Errorf("v4.2.16 gets %d known issues (F21, first seen on v4.2.21, among them?), v4.2.26 %d", len(old), len(issues))
	}
	for _, k := range issues {
		if k.Seen == nil {
			continue
		}
		if runs != 0 && k.Seen.Runs != runs {
			t.Errorf("%s: seen in a sweep of %d runs, others of %d", k.ID, k.Seen.Runs, runs)
		}
		runs = k.Seen.Runs
	}
}

// TestMatrixUserSuite: the matrix builds a user's suite (-pkg/-test) the
// same way, here examples/echo's TestCloseSweep on generated seeds.
func TestMatrixUserSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example's test binary in a scratch module")
	}
	out := t.TempDir()
	args := []string{"matrix", "-versions", "v4.2.26", "-offline", "-quiet", "-workers", "2", "-n", "4", "-pkg", "../../examples/echo", "-test", "TestCloseSweep", "-out", out, "-cache", t.TempDir()}
	if code := run(args); code != exitOK {
		t.Fatalf("closesim %v exited %d", args, code)
	}
	m := readMatrix(t, out)
	if !strings.Contains(m.Target, "examples/echo TestCloseSweep") || len(m.Scenarios) != 4 || len(m.Releases) != 1 {
		t.Fatalf("matrix %+v", m)
	}
	for _, sc := range m.Scenarios {
		if c := m.Releases[0].Cells[sc]; c.Runs != 1 || c.Verdict == "" || strings.HasPrefix(c.Verdict, "crash") {
			t.Errorf("%s: %+v", sc, c)
		}
	}
}

// TestBisectRealReleases bisects F6's scenario between v4.2.11 and
// v4.2.12, two real builds: v4.2.12 is the first release with F6, and of
// the modules it moved pion/ice alone flips it (at v4.2.4, when the ice
// releases in between can be built). It needs both releases' modules in
// the module cache, or CLOSESIM_DOWNLOAD=1 to download them.
func TestBisectRealReleases(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two Pion releases")
	}
	offline := os.Getenv("CLOSESIM_DOWNLOAD") == ""
	for _, v := range []string{"v4.2.11", "v4.2.12"} {
		if _, err := releaseRequirements(v, offline); err != nil {
			t.Skipf("%s is not in the module cache (CLOSESIM_DOWNLOAD=1 downloads it): %v", v, err)
		}
	}
	out := t.TempDir()
	args := []string{"bisect", "-good", "v4.2.11", "-bad", "v4.2.12", "-quiet", "-workers", "1", "-out", out}
	if offline {
		args = append(args, "-offline")
	}
	args = append(args, "../../docs/findings/F6-min.json")
	if code := run(args); code != exitOK {
		t.Fatalf("closesim %v exited %d", args, code)
	}
	data, err := os.ReadFile(filepath.Join(out, "bisect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep bisectReport
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Release.First != "v4.2.12" || rep.OldVerdict == rep.NewVerdict || !strings.Contains(rep.NewVerdict, "F6") {
		t.Fatalf("bisect %+v", rep)
	}
	if rep.ReleaseNotes != "https://github.com/pion/webrtc/releases/tag/v4.2.12" {
		t.Errorf("release notes %s", rep.ReleaseNotes)
	}
	moved := strings.Join(rep.Moved, "; ")
	if !strings.Contains(moved, "github.com/pion/ice/v4 v4.2.2 -> v4.2.5") {
		t.Errorf("moved %q, want ice v4.2.2 -> v4.2.5 among them", moved)
	}
	// The ice releases between may be missing offline; with them, the
	// module bisect lands on v4.2.4.
	if rep.Module == "github.com/pion/ice/v4" && rep.ModuleRange.First != "v4.2.4" && !offline {
		t.Errorf("module range %+v, want ice v4.2.4 first", rep.ModuleRange)
	}
	t.Logf("%s", rep.Conclusion)
}

// readMatrix reads the matrix.json closesim matrix wrote into dir.
func readMatrix(t *testing.T, dir string) matrix {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "matrix.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m matrix
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMatrixPrintsRepro: every failing cell the terminal table shows ends
// with its repro line; pass and known cells print none.
func TestMatrixPrintsRepro(t *testing.T) {
	m := matrix{Scenarios: []string{"a.json", "b.json"}, Releases: []releaseRun{{Release: "v4.2.10", Cells: map[string]cell{
		"a.json": {Verdict: "fail local.closed-states", Detail: "SCTP is open\nmore", Runs: 1, Counts: map[string]int{"fail local.closed-states": 1}, Repro: "REPRO-A"},
		"b.json": {Verdict: "known F2", Runs: 1, Counts: map[string]int{"known F2": 1}, Repro: "REPRO-B"},
	}}}}
	var b strings.Builder
	m.print(&b)
	out := b.String()
	if !strings.Contains(out, "FAIL a.json on v4.2.10: fail local.closed-states: SCTP is open\n  repro: REPRO-A\n") || strings.Contains(out, "REPRO-B") {
		t.Errorf("print:\n%s", out)
	}
}
