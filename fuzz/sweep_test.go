package fuzz

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

var (
	flagSeeds    = flag.Int("closesim.seeds", 20, "TestSweep: number of generated scenarios to run")
	flagStart    = flag.Uint64("closesim.start", 0, "TestSweep: first seed")
	flagSeed     = flag.Int64("closesim.seed", -1, "TestReplay: the seed to replay")
	flagRepeat   = flag.Int("closesim.repeat", 1, "TestReplay: replay K times and report how many distinct order-only traces they gave")
	flagRealTime = flag.Duration("closesim.realtime", 5*time.Second, "wall-clock bound of the real-time recheck of a wedge")
	flagCheck    = flag.Int("closesim.recheck", 20, "TestSweep: re-run every Nth seed and report order-only trace divergence (0: never)")
	flagFile     = flag.String("closesim.file", "", "TestReplay: a scenario JSON file or a Go fuzz corpus file (go test fuzz v1) to replay")
)

// replayFileCmd is the one-line command that replays a scenario file.
func replayFileCmd(path string) string {
	return fmt.Sprintf("go test ./fuzz -run '^TestReplay$' -v -count=1 -closesim.file=%s", path)
}

// loadScenario reads a scenario JSON file, or a Go fuzz corpus file whose
// single []byte value is decoded with scenarios.FromFuzz.
func loadScenario(path string) (scenarios.Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return scenarios.Scenario{}, fmt.Errorf("read scenario: %w", err)
	}
	text := string(data)
	if rest, ok := strings.CutPrefix(text, "go test fuzz v1\n"); ok {
		lit, ok := strings.CutPrefix(strings.TrimSpace(rest), "[]byte(")
		if !ok || !strings.HasSuffix(lit, ")") {
			return scenarios.Scenario{}, fmt.Errorf("%s: corpus file must hold one []byte(...) value", path)
		}
		b, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		if err != nil {
			return scenarios.Scenario{}, fmt.Errorf("%s: corpus value: %w", path, err)
		}
		return scenarios.FromFuzz([]byte(b)), nil
	}
	sc, err := scenarios.Unmarshal(data)
	if err != nil {
		return scenarios.Scenario{}, fmt.Errorf("%s: %w", path, err)
	}
	return sc, nil
}

// repro is the one-line command that replays seed.
func repro(seed uint64) string {
	return fmt.Sprintf("go test ./fuzz -run '^TestReplay$' -v -count=1 -closesim.seed=%d", seed)
}

// phaseOf names the close phase of a generated scenario from its name.
func phaseOf(sc scenarios.Scenario) string {
	if _, rest, ok := strings.Cut(sc.Name, "/close-"); ok {
		if i := strings.LastIndexByte(rest, '-'); i > 0 {
			if j := strings.LastIndexByte(rest[:i], '-'); j > 0 {
				return rest[:j]
			}
		}
	}
	return "?"
}

// TestSweep runs generated scenarios, judges each with the invariants of
// -closesim.profile (known issues from -closesim.known count as known, not
// failures) and prints a report: outcomes per close phase, verdicts, and
// every failure with its violations and repro line. Failures are findings
// to triage, printed rather than failing the test; bad input or a harness
// error fails it.
func TestSweep(t *testing.T) {
	if *flagSeeds < 0 {
		t.Fatalf("-closesim.seeds must be >= 0, got %d", *flagSeeds)
	}
	type finding struct {
		seed    uint64
		obs     *sim.Observation
		recheck string
		verdict invariants.Verdict
	}
	var (
		findings  []finding
		verdicts  = map[string]int{}
		knownIDs  = map[string]int{}
		diverged  []string
		rechecked int
		counts    = map[string]map[sim.Outcome]int{}
		totals    = map[sim.Outcome]int{}
		virtual   time.Duration
		start     = time.Now()
		lastLine  = start
	)
	for i := range *flagSeeds {
		seed := *flagStart + uint64(i)
		sc := scenarios.Generate(seed)
		obs, err := sim.Run(t, sc)
		if err != nil {
			t.Fatalf("seed %d: %v\nrepro: %s", seed, err, repro(seed))
		}
		if obs.Outcome == sim.OutcomeError {
			t.Errorf("seed %d: harness error: %s\nrepro: %s", seed, obs.Error, repro(seed))
		}
		phase := phaseOf(sc)
		if counts[phase] == nil {
			counts[phase] = map[sim.Outcome]int{}
		}
		counts[phase][obs.Outcome]++
		totals[obs.Outcome]++
		virtual += obs.Virtual
		v, err := judged(obs)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case len(v.Fail) > 0:
			verdicts["fail"]++
			findings = append(findings, finding{seed, obs, recheck(t, obs), v})
		case len(v.Known) > 0:
			verdicts["known"]++
			for _, k := range v.Known {
				knownIDs[k.Issue.ID]++
			}
		default:
			verdicts["pass"]++
		}
		if *flagCheck > 0 && i%*flagCheck == 0 && obs.Outcome != sim.OutcomeWedge {
			// Determinism self-check, as FoundationDB re-runs a sample.
			again, err := sim.Run(t, sc)
			if err != nil {
				t.Fatal(err)
			}
			rechecked++
			if again.TraceHash != obs.TraceHash {
				_, where := sim.FirstDivergence(obs.Events, again.Events)
				diverged = append(diverged, fmt.Sprintf("seed %d: %s", seed, where))
			}
		}
		if time.Since(lastLine) > 5*time.Second {
			lastLine = time.Now()
			fmt.Fprintf(os.Stderr, "closesim: %d/%d scenarios, %d findings, %.0f/s\n",
				i+1, *flagSeeds, len(findings), float64(i+1)/time.Since(start).Seconds())
		}
	}
	wall := time.Since(start)

	var b strings.Builder
	fmt.Fprintf(&b, "closesim sweep: seeds %d..%d (%d scenarios) against %s\n",
		*flagStart, *flagStart+uint64(*flagSeeds)-1, *flagSeeds, pionVersion())
	outcomes := []sim.Outcome{sim.OutcomeOK, sim.OutcomeLeak, sim.OutcomeDeadlock, sim.OutcomeWedge, sim.OutcomePanic, sim.OutcomeError}
	fmt.Fprintf(&b, "\n%-16s", "close phase")
	for _, o := range outcomes {
		fmt.Fprintf(&b, " %8s", o)
	}
	b.WriteString("\n")
	phases := make([]string, 0, len(counts))
	for p := range counts {
		phases = append(phases, p)
	}
	sort.Strings(phases)
	for _, p := range append(phases, "total") {
		row := counts[p]
		if p == "total" {
			row = totals
		}
		fmt.Fprintf(&b, "%-16s", p)
		for _, o := range outcomes {
			fmt.Fprintf(&b, " %8d", row[o])
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\nwall %s, virtual %s, %.0f scenarios/s\n", wall.Round(time.Millisecond), virtual.Round(time.Second), float64(*flagSeeds)/wall.Seconds())
	fmt.Fprintf(&b, "verdicts (profile %s): %d pass, %d known issues only, %d fail\n", *flagProfile, verdicts["pass"], verdicts["known"], verdicts["fail"])
	ids := make([]string, 0, len(knownIDs))
	for id := range knownIDs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(&b, "  known %s: %d violations\n", id, knownIDs[id])
	}
	if rechecked > 0 {
		fmt.Fprintf(&b, "determinism self-check: %d of %d re-run seeds gave the same order-only trace\n", rechecked-len(diverged), rechecked)
		for _, d := range diverged {
			fmt.Fprintf(&b, "  diverged: %s\n", d)
		}
	}
	if len(findings) > 0 {
		fmt.Fprintf(&b, "\n%d failures:\n", len(findings))
	}
	for _, f := range findings {
		fmt.Fprintf(&b, "- seed %d %s %s\n", f.seed, f.obs.Outcome, f.obs.Scenario.Name)
		for _, v := range f.verdict.Fail {
			fmt.Fprintf(&b, "  %s\n", headline(v.String()))
		}
		if f.recheck != "" {
			fmt.Fprintf(&b, "  %s\n", f.recheck)
		}
		fmt.Fprintf(&b, "  repro: %s\n", repro(f.seed))
	}
	fmt.Print(b.String())
}

// TestReplay replays one seed and prints its scenario, trace and outcome.
func TestReplay(t *testing.T) {
	var (
		sc     scenarios.Scenario
		replay string
	)
	switch {
	case *flagFile != "":
		var err error
		if sc, err = loadScenario(*flagFile); err != nil {
			t.Fatal(err)
		}
		replay = replayFileCmd(*flagFile)
	case *flagSeed >= 0:
		sc = scenarios.Generate(uint64(*flagSeed))
		replay = repro(uint64(*flagSeed))
	default:
		t.Skip("set -closesim.seed=N or -closesim.file=PATH to replay")
	}
	obs, err := sim.Run(t, sc)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := scenarios.Marshal(sc)
	fmt.Printf("scenario:\n%s\n\ntrace (order hash %s):\n%s\n", js, obs.TraceHash, sim.Text(obs.Events))
	fmt.Printf("final states:\n")
	for _, s := range obs.Final {
		fmt.Printf("  %+v\n", s)
	}
	fmt.Printf("\noutcome: %s\n%s\n%s", obs.Outcome, summary(obs), verdictText(obs))
	if r := recheck(t, obs); r != "" {
		fmt.Println(r)
	}
	if *flagRepeat > 1 {
		hashes := map[string]int{obs.TraceHash: 1}
		for range *flagRepeat - 1 {
			again, err := sim.Run(t, sc)
			if err != nil {
				t.Fatal(err)
			}
			if _, seen := hashes[again.TraceHash]; !seen {
				_, where := sim.FirstDivergence(obs.Events, again.Events)
				fmt.Printf("replay diverged from the first at %s\n", where)
			}
			hashes[again.TraceHash]++
		}
		fmt.Printf("%d replays gave %d distinct order-only trace(s)\n", *flagRepeat, len(hashes))
	}
	fmt.Printf("repro: %s\n", replay)
}

// recheck re-runs a wedged scenario on the real clock to tell a stall (the
// real-time run finishes; its slowest close says how long the stall was)
// from a deadlock (the real-time run hangs too). It returns "" for other
// outcomes.
func recheck(t *testing.T, obs *sim.Observation) string {
	if obs.Outcome != sim.OutcomeWedge && obs.Outcome != sim.OutcomeDeadlock {
		return ""
	}
	// A stall worth the name is well under a few seconds (F1: 400 ms); a
	// run that needs longer on the real clock is reported as hanging.
	rt, err := sim.Run(t, obs.Scenario, sim.WithRealTime(), sim.WithWatchdog(*flagRealTime))
	if err != nil {
		return "real-time recheck: " + err.Error()
	}
	switch rt.Outcome {
	case sim.OutcomeWedge, sim.OutcomeDeadlock:
		return fmt.Sprintf("real-time recheck: DEADLOCK, no progress on the real clock within %s either (%s)", *flagRealTime, headline(summary(rt)))
	}
	var slowest time.Duration
	for _, c := range rt.Closes {
		slowest = max(slowest, c.Took)
	}
	return fmt.Sprintf("real-time recheck: STALL, the run finishes on the real clock (%s); slowest close took %s", rt.Outcome, slowest.Round(time.Millisecond))
}

// summary describes a non-ok observation in a few lines.
func summary(obs *sim.Observation) string {
	var b strings.Builder
	switch obs.Outcome {
	case sim.OutcomeLeak:
		for _, g := range obs.Leaks {
			fmt.Fprintf(&b, "leaked goroutine %d [%s] %s\n", g.ID, g.State, g.Top)
		}
		for _, s := range obs.OpenSockets {
			fmt.Fprintf(&b, "socket still bound: %s %s %s\n", s.Peer, s.Kind, s.Local)
		}
	case sim.OutcomeWedge, sim.OutcomeDeadlock:
		b.WriteString(obs.Wedge.Diagnosis)
	case sim.OutcomePanic:
		b.WriteString(obs.Panic)
	case sim.OutcomeError:
		b.WriteString(obs.Error)
	}
	return b.String()
}

// headline picks the line of a summary that says the most: for a wedge, the
// first goroutine that waits on a mutex; otherwise the first line.
func headline(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, " waits in ") {
			return strings.TrimSpace(line)
		}
	}
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

func pionVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/pion/webrtc/v4" {
				return d.Path + " " + d.Version
			}
		}
	}
	return "github.com/pion/webrtc/v4 (version unknown)"
}
