package suite

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/report"
	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

// tooLong is a test invariant that fails on every scenario of more than two
// steps: deterministic, so sweeps fail and shrinking has a known floor.
var tooLong = invariants.Invariant{
	ID: "test.too-long", Rule: "a scenario has at most two steps", Ref: "suite's tests",
	Check: func(obs *facts.Observation) []invariants.Violation {
		if n := len(obs.Scenario.Steps); n > 2 {
			return []invariants.Violation{{Invariant: "test.too-long", Message: fmt.Sprintf("%d steps", n)}}
		}
		return nil
	},
}

// light is the generator of these tests: cheap scenarios with three to
// six steps that close before the connection is up, so no run reaches
// one of Pion's known wedges, under the race detector either.
func light(seed uint64) scenarios.Scenario {
	phases := []scenarios.Phase{scenarios.PhaseAfterSetLocal, scenarios.PhaseAfterRemote, scenarios.PhaseICEChecking}
	sc := scenarios.WithClose(scenarios.Base(seed), scenarios.CloseAt{
		Phase: phases[seed%3], Closer: scenarios.Closers()[seed/3%3], Mode: scenarios.ModeClose}, 1, 1)
	sc.Name = fmt.Sprintf("light-%d/%s", seed, sc.Name)
	return sc
}

// helperEnv makes TestHelperSuite run: the tests below run this test
// binary again with it set, to see what a failing suite prints and exits.
const helperEnv = "CLOSESIM_SUITE_HELPER"

// TestHelperSuite is a suite test whose every scenario of more than two
// steps fails; it only runs in a child process of the tests below.
func TestHelperSuite(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("runs in a child process of TestRunModes")
	}
	Run(t, Config{Invariants: []invariants.Invariant{tooLong}, Generate: light, Seeds: 3})
}

func TestRelPkg(t *testing.T) {
	for _, tc := range []struct{ path, mod, want string }{
		{"github.com/x/y", "github.com/x/y", "."},
		{"github.com/x/y/examples/echo", "github.com/x/y", "./examples/echo"},
		{"github.com/x/yz", "github.com/x/y", "github.com/x/yz"},
		{"github.com/other/pkg", "github.com/x/y", "github.com/other/pkg"},
		{"github.com/x/y/p", "", "github.com/x/y/p"},
	} {
		if got := relPkg(tc.path, tc.mod); got != tc.want {
			t.Errorf("relPkg(%q, %q) = %q, want %q", tc.path, tc.mod, got, tc.want)
		}
	}
}

func TestRunPattern(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"TestCloseSweep", "^TestCloseSweep$"},
		{"TestCatalogue/close-dc_open-A-close", "^TestCatalogue$/^close-dc_open-A-close$"},
		{"TestX/a+b", `^TestX$/^a\+b$`},
	} {
		if got := runPattern(tc.name); got != tc.want {
			t.Errorf("runPattern(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestTargetRepro(t *testing.T) {
	tg := targetOf(t)
	if tg.pkg != "./suite" || tg.test != "TestTargetRepro" {
		t.Fatalf("target %+v, want ./suite TestTargetRepro", tg)
	}
	for _, tc := range []struct{ got, want string }{
		{tg.replaySeed(7), "go test ./suite -run '^TestTargetRepro$' -v -count=1 -closesim.seed=7"},
		{tg.cli("replay", "-seed 7"), "closesim replay -pkg ./suite -test TestTargetRepro -seed 7"},
		{target{importPath: defaultCLIPkg, pkg: "./fuzz", test: defaultCLITest}.cli("replay", "-seed 7"), "closesim replay -seed 7"},
	} {
		if tc.got != tc.want {
			t.Errorf("got  %s\nwant %s", tc.got, tc.want)
		}
	}
}

// setFlags sets flags for the rest of the test and restores them after.
func setFlags(t *testing.T, kv map[string]string) {
	for k, v := range kv {
		f := flag.Lookup(k)
		if f == nil {
			t.Fatalf("no flag %s", k)
		}
		old := f.Value.String()
		if err := flag.Set(k, v); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = flag.Set(k, old) })
	}
}

func TestSelected(t *testing.T) {
	for _, tc := range []struct {
		flags map[string]string
		want  Mode
	}{
		{nil, ModeSweep},
		{map[string]string{"closesim.seeds": "50"}, ModeSweep},
		{map[string]string{"closesim.seed": "3"}, ModeReplay},
		{map[string]string{"closesim.file": "x.json"}, ModeReplay},
		{map[string]string{"closesim.shrink": "true", "closesim.seed": "3"}, ModeShrink},
		{map[string]string{"closesim.worker": "true", "closesim.seed": "3"}, ModeWorker},
	} {
		t.Run(fmt.Sprint(tc.flags), func(t *testing.T) {
			setFlags(t, tc.flags)
			if got := Selected(); got != tc.want {
				t.Errorf("Selected() = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSeeds(t *testing.T) {
	for _, tc := range []struct {
		flag string
		cfg  int
		want int
	}{
		{"0", 0, DefaultSeeds},
		{"0", 8, 8},
		{"40", 8, 40},
	} {
		setFlags(t, map[string]string{"closesim.seeds": tc.flag})
		want := tc.want
		if testing.Short() && tc.flag == "0" {
			want = max(1, want/4)
		}
		if got := (Config{Seeds: tc.cfg}).seeds(); got != want {
			t.Errorf("-closesim.seeds=%s Seeds=%d: %d, want %d", tc.flag, tc.cfg, got, want)
		}
	}
}

// TestWorkerLines feeds seeds to the worker as closesim run does and reads
// its result lines: one per seed, judged with the config's invariants,
// failures shrunk, repro lines naming this package and test.
func TestWorkerLines(t *testing.T) {
	var out strings.Builder
	Config{Invariants: []invariants.Invariant{tooLong}, Generate: light}.worker(t, strings.NewReader("0\n\n1\n"), &out)
	var rs []report.Result
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	sc.Buffer(nil, 64<<20)
	if !sc.Scan() || sc.Text() != ReadyLine {
		t.Fatalf("first line %.80q, want %q", sc.Text(), ReadyLine)
	}
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), ResultPrefix)
		if !ok {
			t.Fatalf("not a result line: %.80q", sc.Text())
		}
		var r report.Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	if len(rs) != 2 || rs[0].Seed != 0 || rs[1].Seed != 1 {
		t.Fatalf("%d results (%+v), want seeds 0 and 1", len(rs), rs)
	}
	for _, r := range rs {
		if !r.Failed() || r.FailedIDs()[0] != tooLong.ID {
			t.Errorf("seed %d: failed %v, want %s", r.Seed, r.FailedIDs(), tooLong.ID)
		}
		if r.Shrunk == nil || len(r.Shrunk.Steps) != 3 {
			t.Errorf("seed %d: shrunk %v, want 3 steps", r.Seed, r.Shrunk)
		}
		if r.ShrinkWall <= 0 {
			t.Errorf("seed %d: shrunk, but no shrinking time recorded", r.Seed)
		}
		want := fmt.Sprintf("closesim replay -pkg ./suite -test TestWorkerLines -seed %d   # or: go test ./suite -run '^TestWorkerLines$' -v -count=1 -closesim.seed=%d", r.Seed, r.Seed)
		if r.Repro != want {
			t.Errorf("repro %q\nwant  %q", r.Repro, want)
		}
	}
}

// TestRunModes runs TestHelperSuite in a child process in each mode and
// checks what it prints, how it exits and what it writes.
func TestRunModes(t *testing.T) {
	dir := t.TempDir()
	scFile := filepath.Join(dir, "long.json")
	js, err := scenarios.Marshal(light(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(scFile, js, 0o644); err != nil {
		t.Fatal(err)
	}
	minFile := filepath.Join(dir, "min.json")
	for _, tc := range []struct {
		name   string
		flags  []string
		fail   bool
		output []string
		files  []string
	}{
		{
			name: "sweep", flags: []string{"-closesim.out=" + filepath.Join(dir, "out")}, fail: true,
			output: []string{
				"closesim sweep: seeds 0..2 (3 scenarios)",
				"verdicts (profile pion): 0 pass, 0 known issues only, 3 fail",
				"repro: go test ./suite -run '^TestHelperSuite$' -v -count=1 -closesim.seed=0",
				"shrunk to 3 of",
			},
			files: []string{"out/summary.json", "out/junit.xml", "out/summary.md", "out/results.jsonl", "out/failures/seed-2/timeline.html"},
		},
		{
			name: "short sweep", flags: []string{"-test.short", "-closesim.shrinkfailures=false"}, fail: true,
			output: []string{"(1 scenarios)"},
		},
		{
			name: "replay seed", flags: []string{"-closesim.seed=2"}, fail: true,
			output: []string{"trace (order hash", "FAIL [test.too-long]", "repro: go test ./suite -run '^TestHelperSuite$' -v -count=1 -closesim.seed=2"},
		},
		{
			name: "replay file", flags: []string{"-closesim.file=" + scFile, "-closesim.repeat=2"}, fail: true,
			output: []string{"2 replays gave", "-closesim.file=" + scFile},
		},
		{
			name: "shrink", flags: []string{"-closesim.shrink", "-closesim.seed=2", "-closesim.out=" + minFile, "-closesim.replays=1"},
			output: []string{"shrunk test.too-long: steps", "wrote " + minFile, "repro: go test ./suite -run '^TestHelperSuite$' -v -count=1 -closesim.file=" + minFile},
			files:  []string{"min.json"},
		},
		{
			name: "bad profile", flags: []string{"-closesim.profile=strict"}, fail: true,
			output: []string{`closesim: -closesim.profile: unknown profile "strict"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperSuite$", "-test.v", "-test.count=1"}, tc.flags...)...)
			cmd.Env = append(os.Environ(), helperEnv+"=1")
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != tc.fail {
				t.Fatalf("failed %v (%v), want %v; output:\n%s", failed, err, tc.fail, out)
			}
			for _, want := range tc.output {
				if !strings.Contains(string(out), want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			for _, f := range tc.files {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("%s: %v", f, err)
				}
			}
		})
	}
	if sc, err := Load(minFile); err != nil || len(sc.Steps) != 3 {
		t.Errorf("shrunk scenario %v: %v, want 3 steps", sc.Steps, err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	js, _ := scenarios.Marshal(scenarios.Generate(3))
	data := scenarios.EncodeFuzz([]scenarios.FuzzChoice{{Op: "advance"}, {Op: "close", Peer: scenarios.PeerA}})
	_, corpus := corpusFile(data)
	for _, tc := range []struct {
		name, path, err string
		steps           int
	}{
		{name: "scenario JSON", path: write("s.json", string(js)), steps: len(scenarios.Generate(3).Steps)},
		{name: "corpus file", path: write("c", string(corpus)), steps: len(scenarios.FromFuzz(data).Steps)},
		{name: "missing", path: filepath.Join(dir, "none.json"), err: "read scenario"},
		{name: "bad corpus", path: write("bad", "go test fuzz v1\nint(3)\n"), err: "one []byte"},
		{name: "bad JSON", path: write("bad.json", `{"version":1,"stepz":[]}`), err: "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Load(tc.path)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err %v, want %q", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			case len(sc.Steps) != tc.steps:
				t.Errorf("%d steps, want %d", len(sc.Steps), tc.steps)
			}
		})
	}
}

// TestShrinkSkipsFrozenReplays: a replay that froze before it could show
// the failure does not count against it. Every other run of this scenario
// wedges (a custom step holds a mutex across a fake-clock sleep while
// another goroutine waits for it, as Pion's F1 does); the runs that finish
// all fail test.settled-too-long, so the failure still holds.
func TestShrinkSkipsFrozenReplays(t *testing.T) {
	var runs atomic.Int64
	// Like tooLong, but judged only on runs that got as far as the final
	// states, as a leak or a final-state rule is.
	settled := invariants.Invariant{ID: "test.settled-too-long", Rule: "a run that settled had at most two steps", Ref: "suite's tests",
		Check: func(obs *facts.Observation) []invariants.Violation {
			if n := len(obs.Scenario.Steps); len(obs.Final) > 0 && n > 2 {
				return []invariants.Violation{{Invariant: "test.settled-too-long", Message: fmt.Sprintf("%d steps", n)}}
			}
			return nil
		}}
	c := Config{
		Invariants: []invariants.Invariant{settled},
		Options: []sim.Option{sim.WithWatchdog(250 * time.Millisecond), sim.WithStep("maybe-wedge", func(*sim.StepContext) error {
			if runs.Add(1)%2 == 1 {
				var mu sync.Mutex
				mu.Lock()
				go func() { mu.Lock() }() // not durably blocked: the fake clock stops
				time.Sleep(time.Second)
				mu.Unlock()
			}
			return nil
		})},
	}
	sc := light(1)
	sc.Steps = append([]scenarios.Step{{Kind: scenarios.KindCustom, Name: "maybe-wedge"}}, sc.Steps...)
	if !c.stillFails(t, "test.settled-too-long", 3)(sc) {
		t.Errorf("a failure shown by every run that finished does not hold (%d runs)", runs.Load())
	}
	if got := runs.Load(); got < 5 {
		t.Errorf("%d runs, want the wedged ones replaced (at least 5)", got)
	}
	if c.stillFails(t, "test.never", 3)(sc) {
		t.Error("a failure no run shows holds")
	}
}

// TestFuzzBoundsMinimization: suite.Fuzz sets Go's -test.fuzzminimizetime
// to DefaultFuzzMinimize when the command line did not give it, and
// leaves a given value alone.
func TestFuzzBoundsMinimization(t *testing.T) {
	f := flag.Lookup("test.fuzzminimizetime")
	if f == nil {
		t.Fatal("no -test.fuzzminimizetime flag in a test binary")
	}
	old := f.Value.String()
	t.Cleanup(func() { _ = f.Value.Set(old) })
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.fuzzminimizetime" })
	_ = Fuzz(Config{})
	want := DefaultFuzzMinimize
	if given {
		want = old
	}
	if got := f.Value.String(); got != want {
		t.Fatalf("-test.fuzzminimizetime = %s after suite.Fuzz (given on the command line: %v), want %s", got, given, want)
	}
}
