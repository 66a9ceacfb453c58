package suite

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/coverage"
	"github.com/closesim/closesim/internal/protocol"
	"github.com/closesim/closesim/report"
	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

// ResultPrefix starts every result line a worker writes on stdout,
// followed by a report.Result as JSON; the closesim CLI reads them.
const ResultPrefix = protocol.ResultPrefix

// ReadyLine is the line a worker writes on stdout once it has started, before
// it reads its first seed.
const ReadyLine = protocol.ReadyLine

// Run runs c in the mode the -closesim.* flags select (see Selected):
//
//   - sweep (the default): -closesim.seeds generated scenarios from
//     -closesim.start; prints outcomes per close phase and verdicts, fails t
//     once per failing scenario with its repro line, shrinks the first
//     failure of each invariant, and with -closesim.out writes the same
//     report directory as closesim run.
//   - replay (-closesim.seed=N or -closesim.file=PATH): prints the scenario,
//     trace, final states and verdict; fails t if the run fails.
//     -closesim.repeat=K replays K times and counts distinct traces.
//   - shrink (-closesim.shrink with a seed or file): writes the minimal
//     scenario that still fails the same way to -closesim.out.
//   - worker (-closesim.worker): what closesim run drives; one seed per
//     stdin line, one ResultPrefix line per seed on stdout.
//
// Run sets nothing global besides what sim.Run does; call it from the top
// of a test function.
func Run(t *testing.T, c Config) {
	t.Helper()
	c = c.ready()
	if _, err := judgeConfig(c.flags(), c.Invariants); err != nil {
		t.Fatalf("closesim: %v", err)
	}
	switch c.flags().mode() {
	case ModeWorker:
		c.worker(t, os.Stdin, os.Stdout)
	case ModeShrink:
		c.shrink(t)
	case ModeReplay:
		c.replay(t)
	default:
		c.sweep(t)
	}
}

// input returns the scenario of -closesim.file or -closesim.seed and the
// command that replays it.
func (c Config) input(t *testing.T) (scenarios.Scenario, string) {
	tg := targetOf(t)
	switch {
	case c.flags().file != "":
		sc, err := Load(c.flags().file)
		if err != nil {
			t.Fatalf("closesim: %v", err)
		}
		return sc, tg.replayFile(c.flags().file)
	case c.flags().seed >= 0:
		return c.generate(uint64(c.flags().seed)), tg.replaySeed(uint64(c.flags().seed))
	}
	t.Fatal("closesim: give -closesim.seed=N or -closesim.file=PATH")
	return scenarios.Scenario{}, ""
}

// runResult runs sc, judges it and packs the result; the trace and states
// are kept only for runs that failed or did not end ok (a report needs
// them; thousands of passing runs would only slow a sweep down).
func (c Config) runResult(t *testing.T, sc scenarios.Scenario) (report.Result, *facts.Observation) {
	obs, v := Judge(t, c, sc)
	r := report.Result{
		Scenario: sc, Outcome: string(obs.Outcome), Verdict: v, TraceHash: obs.TraceHash,
		Wall: obs.Wall, Virtual: obs.Virtual, Coverage: coverage.Keys(obs),
	}
	if obs.Wedge != nil {
		r.WedgeBy, r.Headline = string(obs.Wedge.By), obs.Wedge.Headline
	}
	if r.Failed() || obs.Outcome != facts.OutcomeOK {
		r.Events, r.Closes, r.Final = obs.Events, obs.Closes, obs.Final
		r.Diagnosis = summary(obs)
	}
	return r, obs
}

// phaseOf names the close phase a scenario was built around
// (Scenario.Phase), or "?".
func phaseOf(sc scenarios.Scenario) string {
	if sc.Phase == "" {
		return "?"
	}
	return string(sc.Phase)
}

// sweep runs generated scenarios and reports them (see Run): run, then
// aggregate (report.Summarize), then render.
func (c Config) sweep(t *testing.T) {
	tg := targetOf(t)
	sr := c.runSweep(t, tg)
	j, _ := judgeConfig(c.flags(), c.Invariants)
	sw := report.Sweep{
		Name: "go test " + tg.pkg + " -run " + runPattern(tg.test), Started: sr.start, Wall: sr.wall, Workers: 1,
		Profile: string(j.profile), PionVersion: pionVersion(), Results: sr.results, Reachable: coverage.Reachable(),
	}
	fmt.Print(renderSweep(report.Summarize(sw), sr, c.flags().start))
	for _, r := range sr.results {
		if r.Failed() {
			t.Error(failureText(r, sr.rechecks[r.Seed], tg))
		}
	}
	if out := c.flags().out; out != "" {
		if err := report.Write(out, sw); err != nil {
			t.Fatalf("closesim: write report: %v", err)
		}
		fmt.Printf("report: %s (summary.md, summary.json, junit.xml)\n", out)
	}
}

// sweepRun is what a sweep ran: its results (the first failure of each
// invariant shrunk), the real-time recheck of each failure, and the
// determinism self-check.
type sweepRun struct {
	results     []report.Result
	rechecks    map[uint64]string // seed -> real-time recheck of a failure
	rechecked   int               // seeds re-run for the determinism self-check
	diverged    []string          // those whose order-only trace differed
	start       time.Time
	wall        time.Duration
	phaseCounts map[string]map[facts.Outcome]int // close phase -> outcome -> runs
}

// runSweep runs the sweep's generated scenarios, rechecks failures in real
// time, re-runs every -closesim.recheck'th seed to compare traces, and
// shrinks the first failure of each failed invariant.
func (c Config) runSweep(t *testing.T, tg target) sweepRun {
	n, set := c.seeds(), c.flags()
	sr := sweepRun{rechecks: map[uint64]string{}, phaseCounts: map[string]map[facts.Outcome]int{}, start: time.Now()}
	lastLine, fails, afterWedge := sr.start, 0, false
	for i := range n {
		seed := set.start + uint64(i)
		sc := c.generate(seed)
		r, obs := c.runResult(t, sc)
		r.Seed, r.Repro, r.AfterWedge = seed, tg.replaySeed(seed), afterWedge
		afterWedge = obs.Outcome == facts.OutcomeWedge || obs.Outcome == facts.OutcomeDeadlock
		phase := phaseOf(sc)
		if sr.phaseCounts[phase] == nil {
			sr.phaseCounts[phase] = map[facts.Outcome]int{}
		}
		sr.phaseCounts[phase][obs.Outcome]++
		if r.Failed() {
			fails++
			sr.rechecks[seed] = c.recheck(t, obs)
		}
		if set.recheck > 0 && i%set.recheck == 0 && obs.Outcome != facts.OutcomeWedge {
			// Determinism self-check, as FoundationDB re-runs a sample.
			again, err := sim.Run(t, sc, c.options()...)
			if err != nil {
				t.Fatalf("closesim: seed %d: %v", seed, err)
			}
			sr.rechecked++
			if again.TraceHash != obs.TraceHash {
				_, where := facts.FirstDivergence(obs.Events, again.Events)
				sr.diverged = append(sr.diverged, fmt.Sprintf("seed %d: %s", seed, where))
			}
		}
		sr.results = append(sr.results, r)
		if time.Since(lastLine) > 5*time.Second {
			lastLine = time.Now()
			fmt.Fprintf(os.Stderr, "closesim: %d/%d scenarios, %d failures, %.0f/s\n",
				i+1, n, fails, float64(i+1)/time.Since(sr.start).Seconds())
		}
	}
	sr.wall = time.Since(sr.start)
	if !set.shrinkFailures {
		return sr
	}
	// One minimal scenario per kind of failure, not one per seed.
	shrunk := map[string]bool{}
	for i := range sr.results {
		r := &sr.results[i]
		if !r.Failed() {
			continue
		}
		id := r.FailedIDs()[0]
		if shrunk[id] {
			continue
		}
		shrunk[id] = true
		start := time.Now()
		min, st := shrinkWithin(t, c, r.Scenario, id, set.shrinkBudget)
		r.Shrunk, r.ShrinkWall = &min, time.Since(start)
		if st.OutOfBudget {
			t.Logf("closesim: the shrink of seed %d (%s) stopped at its %s budget (-closesim.shrinkbudget): %s", r.Seed, id, set.shrinkBudget, st)
		}
	}
	return sr
}

// renderSweep is the sweep's report on stdout: outcomes per close phase,
// then what sum counted (verdicts, known issues, invariants, time,
// coverage) and the determinism self-check.
func renderSweep(sum report.Summary, sr sweepRun, start uint64) string {
	var b strings.Builder
	n := sum.Total
	fmt.Fprintf(&b, "closesim sweep: seeds %d..%d (%d scenarios) against %s\n", start, start+uint64(n)-1, n, sum.Sweep.PionVersion)
	outcomes := []facts.Outcome{facts.OutcomeOK, facts.OutcomeLeak, facts.OutcomeDeadlock, facts.OutcomeWedge, facts.OutcomePanic, facts.OutcomeError}
	fmt.Fprintf(&b, "\n%-16s", "close phase")
	for _, o := range outcomes {
		fmt.Fprintf(&b, " %8s", o)
	}
	b.WriteString("\n")
	totals := map[facts.Outcome]int{}
	for _, p := range slices.Sorted(maps.Keys(sr.phaseCounts)) {
		fmt.Fprintf(&b, "%-16s", p)
		for _, o := range outcomes {
			fmt.Fprintf(&b, " %8d", sr.phaseCounts[p][o])
			totals[o] += sr.phaseCounts[p][o]
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%-16s", "total")
	for _, o := range outcomes {
		fmt.Fprintf(&b, " %8d", totals[o])
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "\nwall %s, virtual %s, %.0f scenarios/s\n", sr.wall.Round(time.Millisecond),
		time.Duration(sum.Rates.VirtualSeconds*float64(time.Second)).Round(time.Second), sum.Rates.ScenariosPerSecond)
	fmt.Fprintf(&b, "verdicts (profile %s): %d pass, %d known issues only, %d fail\n", sum.Sweep.Profile,
		sum.Verdicts.Pass, sum.Verdicts.Known, sum.Verdicts.Fail)
	for _, k := range sum.KnownIssues {
		fmt.Fprintf(&b, "  known %s: %d runs\n", k.ID, k.Count)
	}
	if sr.rechecked > 0 {
		fmt.Fprintf(&b, "determinism self-check: %d of %d re-run seeds gave the same order-only trace\n", sr.rechecked-len(sr.diverged), sr.rechecked)
		for _, d := range sr.diverged {
			fmt.Fprintf(&b, "  diverged: %s\n", d)
		}
	}
	b.WriteString("invariants (runs: pass / n/a / known / fail):\n")
	for _, c := range sum.Invariants {
		fmt.Fprintf(&b, "  %-36s %5d / %5d / %5d / %5d\n", c.ID, c.Pass, c.NA, c.Known, c.Fail)
	}
	b.WriteString(sum.Time.Line() + "\n")
	if line := sum.Coverage.Line(); line != "" {
		b.WriteString(line + "\n")
	}
	return b.String()
}

// failureText is one failed result as the sweep reports it: the failed
// violations, the real-time recheck, the repro line and the shrunk
// scenario.
func failureText(r report.Result, recheck string, tg target) string {
	var f strings.Builder
	fmt.Fprintf(&f, "seed %d %s %s\n", r.Seed, r.Outcome, r.Scenario.Name)
	for _, v := range r.Verdict.Fail {
		first, _, _ := strings.Cut(v.String(), "\n")
		fmt.Fprintf(&f, "  %s\n", first)
	}
	if len(r.Verdict.Fail) == 0 {
		fmt.Fprintf(&f, "  %s\n", r.Message())
	}
	if recheck != "" {
		fmt.Fprintf(&f, "  %s\n", recheck)
	}
	fmt.Fprintf(&f, "  repro: %s\n", r.Repro)
	if r.Shrunk != nil {
		fmt.Fprintf(&f, "  shrunk to %d of %d steps (replay: save the JSON as min.json, then %s):\n%s\n",
			len(r.Shrunk.Steps), len(r.Scenario.Steps), tg.replayFile("min.json"), indent(stepsText(*r.Shrunk), "    "))
		if js, err := scenarios.Marshal(*r.Shrunk); err == nil {
			fmt.Fprintf(&f, "%s\n", indent(string(js), "    "))
		}
	}
	return f.String()
}

// stepsText lists a scenario's steps, one per line.
func stepsText(sc scenarios.Scenario) string {
	lines := make([]string, len(sc.Steps))
	for i, s := range sc.Steps {
		lines[i] = fmt.Sprintf("#%d %s", i, s)
	}
	return strings.Join(lines, "\n")
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

// replay runs one scenario and prints what it did (see Run).
func (c Config) replay(t *testing.T) {
	sc, repro := c.input(t)
	obs, v := Judge(t, c, sc)
	js, _ := scenarios.Marshal(sc)
	fmt.Printf("scenario:\n%s\n\ntrace (order hash %s):\n%s\n", js, obs.TraceHash, facts.Text(obs.Events))
	fmt.Printf("final states:\n")
	for _, s := range obs.Final {
		fmt.Printf("  %+v\n", s)
	}
	if len(obs.Reports) > 0 {
		fmt.Printf("reports:\n")
		for _, k := range sortedKeys(obs.Reports) {
			fmt.Printf("  %s = %s\n", k, obs.Reports[k])
		}
	}
	fmt.Printf("\noutcome: %s\n%s%s", obs.Outcome, summary(obs), verdictText(v))
	if r := c.recheck(t, obs); r != "" {
		fmt.Println(r)
	}
	if c.flags().repeat > 1 {
		hashes := map[string]int{obs.TraceHash: 1}
		first := VerdictKey(obs, v)
		verdicts := map[string]int{first: 1}
		for range c.flags().repeat - 1 {
			again, av := Judge(t, c, sc)
			if _, seen := hashes[again.TraceHash]; !seen {
				_, where := facts.FirstDivergence(obs.Events, again.Events)
				fmt.Printf("replay diverged from the first at %s\n", where)
			}
			hashes[again.TraceHash]++
			verdicts[VerdictKey(again, av)]++
		}
		fmt.Printf("%d replays gave %d distinct order-only trace(s)\n", c.flags().repeat, len(hashes))
		fmt.Printf("%d of %d replays gave the first replay's verdict (%s)\n", verdicts[first], c.flags().repeat, first)
		for _, k := range slices.Sorted(maps.Keys(verdicts)) {
			if k != first {
				fmt.Printf("  %d gave: %s\n", verdicts[k], k)
			}
		}
	}
	fmt.Printf("repro: %s\n", repro)
	if failed(obs, v) {
		t.Errorf("closesim: the scenario fails: %s", failureID(obs, v))
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// shrink shrinks a failing scenario and writes the minimal one (see Run).
func (c Config) shrink(t *testing.T) {
	sc, _ := c.input(t)
	out := c.flags().out
	if out == "" {
		out = "shrunk.json"
	}
	obs, v := Judge(t, c, sc)
	if !failed(obs, v) {
		t.Fatalf("closesim: the scenario does not fail (outcome %s): nothing to shrink", obs.Outcome)
	}
	id := failureID(obs, v)
	min, st := Shrink(t, c, sc, id)
	js, err := scenarios.Marshal(min)
	if err != nil {
		t.Fatalf("closesim: %v", err)
	}
	if err := os.WriteFile(out, js, 0o644); err != nil {
		t.Fatalf("closesim: write shrunk scenario: %v", err)
	}
	fmt.Printf("shrunk %s: %s\n%s\nwrote %s\nrepro: %s\n", id, st, stepsText(min), out, targetOf(t).replayFile(out))
}

// worker serves closesim run (see Run): it reads jobs from in until it
// ends, a seed or a scenario file per line (protocol.FilePrefix), and
// writes one result line per job to out.
func (c Config) worker(t *testing.T, in io.Reader, out io.Writer) {
	tg := targetOf(t)
	lines := bufio.NewScanner(in)
	w := bufio.NewWriter(out)
	// Tell closesim run that start-up is over: it times worker starts.
	fmt.Fprintln(w, ReadyLine)
	if err := w.Flush(); err != nil {
		t.Fatalf("closesim worker: %v", err)
	}
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if line == "" {
			continue
		}
		var (
			sc    scenarios.Scenario
			seed  uint64
			file  string
			repro string
		)
		if path, ok := strings.CutPrefix(line, protocol.FilePrefix); ok {
			// A scenario file (closesim matrix, bisect): the CLI validated
			// it; a file that fails here is the binary's own input error.
			var err error
			if sc, err = Load(path); err != nil {
				t.Fatalf("closesim worker: %v", err)
			}
			seed, file = sc.Seed, path
			repro = fmt.Sprintf("%s   # or: %s", tg.cli("replay", path), tg.replayFile(path))
		} else {
			var err error
			if seed, err = strconv.ParseUint(line, 10, 64); err != nil {
				t.Fatalf("closesim worker: bad seed line %q", line)
			}
			sc = c.generate(seed)
			repro = fmt.Sprintf("%s   # or: %s", tg.cli("replay", fmt.Sprintf("-seed %d", seed)), tg.replaySeed(seed))
		}
		r, _ := c.runResult(t, sc)
		r.Seed, r.File, r.Repro = seed, file, repro
		if c.flags().shrinkFailures && r.Failed() {
			start := time.Now()
			min, _ := shrinkWithin(t, c, sc, r.FailedIDs()[0], c.flags().shrinkBudget)
			r.Shrunk, r.ShrinkWall = &min, time.Since(start)
		}
		js, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("closesim worker: seed %d: %v", seed, err)
		}
		fmt.Fprintf(w, "%s%s\n", ResultPrefix, js)
		if err := w.Flush(); err != nil {
			t.Fatalf("closesim worker: %v", err)
		}
		// A wedged bubble cannot be unwound: its goroutines and heap stay
		// in this process. A frozen one costs no CPU, so the worker goes
		// on; closesim run retires it after a few wedges, or after one the
		// watchdog declared (that bubble may still be running).
	}
}

// pionVersion names the pion/webrtc release the binary was built with, as
// reports write it (protocol.PionVersion).
func pionVersion() string { return protocol.PionVersion(pionRelease()) }

// pionRelease is the pion/webrtc module version the binary was built with
// ("v4.2.26", with " => path version" under a replace directive), or, when
// the binary does not record it, the version the module's go.mod requires
// (a replace directive is not followed then); "" if neither says.
func pionRelease() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == protocol.PionModule {
				v := d.Version
				if d.Replace != nil {
					v += " => " + d.Replace.Path + " " + d.Replace.Version
				}
				return v
			}
		}
	}
	// go test leaves the dependencies out of a test binary's build info:
	// read the requirement from the module's go.mod instead.
	if gomod := moduleFile("go.mod"); gomod != "" {
		if data, err := os.ReadFile(gomod); err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require"))
				if len(f) >= 2 && f[0] == protocol.PionModule {
					return f[1]
				}
			}
		}
	}
	return ""
}
