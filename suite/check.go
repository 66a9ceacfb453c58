package suite

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/report"
	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

// Judge runs sc once under c and judges it: closesim's invariants of the
// -closesim.profile profile plus c.Invariants, with the known issues of
// -closesim.known. It fails t only on bad input (an invalid scenario or
// profile, an unreadable known-issues file); what the run did is in the
// Observation and the Verdict.
func Judge(t *testing.T, c Config, sc scenarios.Scenario) (*facts.Observation, invariants.Verdict) {
	t.Helper()
	c = c.ready()
	obs, err := sim.Run(t, sc, c.options()...)
	if err != nil {
		t.Fatalf("closesim: %v", err)
	}
	v, err := c.judge(obs)
	if err != nil {
		t.Fatalf("closesim: %v", err)
	}
	return obs, v
}

// Check runs sc once under c as a regression test: it fails t when the run
// fails (a violation no known issue covers, or a harness error), printing
// the violations with their evidence, the outcome, the scenario JSON and
// the go test line that re-runs the test; known violations are logged. It
// returns the Observation for further assertions.
func Check(t *testing.T, c Config, sc scenarios.Scenario) *facts.Observation {
	t.Helper()
	c = c.ready()
	obs, v := Judge(t, c, sc)
	for _, k := range v.Known {
		t.Logf("known %s: %s", k.Issue.ID, k.Violation)
	}
	if failed(obs, v) {
		js, _ := scenarios.Marshal(sc)
		t.Errorf("closesim: outcome %s\n%s%s\nscenario:\n%s\nrepro: %s",
			obs.Outcome, verdictText(v), summary(obs), js, targetOf(t).goTest())
	}
	return obs
}

// failed reports whether a run fails: what report.Result.Failed says.
func failed(obs *facts.Observation, v invariants.Verdict) bool {
	return report.Result{Outcome: string(obs.Outcome), Verdict: v}.Failed()
}

// VerdictKey names what a run concluded, for comparing replays: its
// outcome, the known issues its violations matched and the invariants that
// failed, each set sorted, e.g. "wedge known=F1,F7 fail=".
func VerdictKey(obs *facts.Observation, v invariants.Verdict) string {
	var known, fails []string
	for _, k := range v.Known {
		known = append(known, k.Issue.ID)
	}
	for _, f := range v.Fail {
		fails = append(fails, f.Invariant)
	}
	slices.Sort(known)
	slices.Sort(fails)
	return fmt.Sprintf("%s known=%s fail=%s", obs.Outcome,
		strings.Join(slices.Compact(known), ","), strings.Join(slices.Compact(fails), ","))
}

// failureID names a failed run's first failure: its first failed
// invariant, or "outcome.<outcome>" (what report.Result.FailedIDs says).
func failureID(obs *facts.Observation, v invariants.Verdict) string {
	ids := report.Result{Outcome: string(obs.Outcome), Verdict: v}.FailedIDs()
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

// stillFails reports whether failure id shows in a majority of replays of
// a candidate scenario. A replay that froze (a wedge or deadlock, such as
// Pion's F1) while id is about something else is inconclusive: the run
// never reached the checks that show id. It is not counted, and another
// replay runs in its place, up to 3*replays runs in all.
func (c Config) stillFails(t *testing.T, id string, replays int) func(scenarios.Scenario) bool {
	return func(sc scenarios.Scenario) bool {
		hits, counted := 0, 0
		for tries := 0; counted < replays && tries < 3*replays; tries++ {
			obs, err := sim.Run(t, sc, c.options()...)
			if err != nil {
				return false
			}
			v, err := c.judge(obs)
			if err != nil {
				return false
			}
			ids := report.Result{Outcome: string(obs.Outcome), Verdict: v}.FailedIDs()
			switch {
			case slices.Contains(ids, id):
				hits++
			case (obs.Outcome == facts.OutcomeWedge || obs.Outcome == facts.OutcomeDeadlock) && !aboutFreezes(id):
				continue
			}
			counted++
		}
		return counted > 0 && 2*hits > counted
	}
}

// aboutFreezes reports whether failure id is a frozen run itself.
func aboutFreezes(id string) bool {
	switch id {
	case "harness.no-wedge", "outcome." + string(facts.OutcomeWedge), "outcome." + string(facts.OutcomeDeadlock):
		return true
	}
	return false
}

// Shrink returns the smallest scenario scenarios.Shrink finds from sc that
// still fails with id (an invariant ID, or "outcome.<outcome>" as
// report.Result.FailedIDs names a failure without one) in a majority of
// -closesim.replays replays (a replay that froze before it could show id
// does not count), and what it removed. sc itself should fail that way; if
// no smaller scenario does, Shrink returns sc unchanged.
func Shrink(t *testing.T, c Config, sc scenarios.Scenario, id string) (scenarios.Scenario, scenarios.ShrinkStats) {
	t.Helper()
	c = c.ready()
	return scenarios.Shrink(sc, c.stillFails(t, id, max(1, c.flags().replays)))
}

// shrinkWithin is Shrink bounded by a wall-clock budget (0: none): once
// it is spent, no candidate runs any more (each counts as not failing), so
// the shrink ends with the smallest failing scenario found so far and
// stats that say so. A sweep's automatic shrink of a wedge replays
// candidates that each cost a watchdog, which under load (-race, every
// package's tests at once) could take longer than the test's timeout.
func shrinkWithin(t *testing.T, c Config, sc scenarios.Scenario, id string, budget time.Duration) (scenarios.Scenario, scenarios.ShrinkStats) {
	t.Helper()
	c = c.ready()
	fails := c.stillFails(t, id, max(1, c.flags().replays))
	if budget <= 0 {
		return scenarios.Shrink(sc, fails)
	}
	deadline, out := time.Now().Add(budget), false
	min, st := scenarios.Shrink(sc, func(c scenarios.Scenario) bool {
		if out = out || !time.Now().Before(deadline); out {
			return false
		}
		return fails(c)
	})
	st.OutOfBudget = out
	return min, st
}

// Fuzz returns the body of a go test -fuzz target that runs the scenario
// scenarios.FromFuzz decodes from the input under c and fails on what
// Check fails on, printing both repro lines (Go's own, by corpus id, and
// closesim's replay of the corpus file, with the trace):
//
//	func FuzzClose(f *testing.F) { f.Fuzz(suite.Fuzz(cfg)) }
//
// Unless the go test command gave -fuzzminimizetime, Fuzz sets it to
// DefaultFuzzMinimize (see there).
func Fuzz(c Config) func(t *testing.T, data []byte) {
	boundMinimization()
	c = c.ready()
	return func(t *testing.T, data []byte) {
		t.Helper()
		sc := scenarios.FromFuzz(data)
		obs, v := Judge(t, c, sc)
		if !failed(obs, v) {
			return
		}
		js, _ := scenarios.Marshal(sc)
		tg := targetOf(t)
		fuzzName, _, _ := strings.Cut(t.Name(), "/")
		id, _ := corpusFile(data)
		tg.test = fuzzName
		t.Fatalf("%v\n%s%s\nscenario:\n%s\n\nrepro: go test %s -run=%s/%s\nrepro: %s",
			report.Result{Outcome: string(obs.Outcome), Verdict: v}.FailedIDs(), verdictText(v), summary(obs), js,
			tg.pkg, fuzzName, id, tg.replayFile("testdata/fuzz/"+fuzzName+"/"+id))
	}
}

// DefaultFuzzMinimize is the -fuzzminimizetime that suite.Fuzz sets when
// the go test command gave none (Go's default is 60 s): at most 200
// candidates per minimization. Go minimizes byte by byte, trying up to
// about L*L/2 candidates for an L-byte input, and every candidate is a
// whole scenario run, so a 100-byte input took Go's full minute, while its
// exec counter stood still (it counts a minimization only when it ends).
// A bound in time is no better: when it runs out, Go's coordinator often
// kills the worker mid-call, restarts it and drops the minimization's execs
// from its count. A bound in candidates ends cleanly; 200 still cut the
// tail of an input and some of its bytes, and a failing scenario is shrunk
// step by step by closesim's own shrinker (its repro line says how).
const DefaultFuzzMinimize = "200x"

// boundMinimization sets -test.fuzzminimizetime to DefaultFuzzMinimize
// unless it was given.
func boundMinimization() {
	f := flag.Lookup("test.fuzzminimizetime")
	if f == nil || !flag.Parsed() {
		return
	}
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.fuzzminimizetime" })
	if !given {
		_ = f.Value.Set(DefaultFuzzMinimize)
	}
}

// corpusFile renders data in Go's fuzz corpus format and returns it with
// the name go test gives it (the first 16 hex digits of its SHA-256).
func corpusFile(data []byte) (name string, content []byte) {
	content = fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data)
	return fmt.Sprintf("%x", sha256.Sum256(content))[:16], content
}

// Load reads a scenario the way -closesim.file does: a scenario JSON file,
// or a Go fuzz corpus file (go test fuzz v1) whose single []byte value
// scenarios.FromFuzz decodes.
func Load(path string) (scenarios.Scenario, error) { return scenarios.ReadFile(path) }

// verdictText lists a verdict's failing and known violations, the failing
// ones with their evidence.
func verdictText(v invariants.Verdict) string {
	var b strings.Builder
	for _, f := range v.Fail {
		fmt.Fprintf(&b, "FAIL %s\n", f)
		for _, e := range f.Evidence {
			fmt.Fprintf(&b, "    %s\n", e)
		}
	}
	for _, k := range v.Known {
		fmt.Fprintf(&b, "known (%s) %s\n", k.Issue.ID, k.Violation)
	}
	return b.String()
}

// summary describes a non-ok observation in a few lines.
func summary(obs *facts.Observation) string {
	var b strings.Builder
	switch obs.Outcome {
	case facts.OutcomeLeak:
		for _, g := range obs.Leaks {
			fmt.Fprintf(&b, "leaked goroutine %d [%s] %s\n", g.ID, g.State, g.Top)
		}
		for _, s := range obs.OpenSockets {
			fmt.Fprintf(&b, "socket still bound: %s %s %s\n", s.Peer, s.Kind, s.Local)
		}
	case facts.OutcomeWedge, facts.OutcomeDeadlock:
		b.WriteString(obs.Wedge.Diagnosis)
	case facts.OutcomePanic:
		b.WriteString(obs.Panic)
	case facts.OutcomeError:
		b.WriteString(obs.Error + "\n")
	}
	return b.String()
}

// recheck re-runs a wedged scenario on the real clock to tell a stall (the
// real-time run finishes; its slowest close says how long the stall was)
// from a deadlock (the real-time run hangs too). It returns "" for other
// outcomes.
func (c Config) recheck(t *testing.T, obs *facts.Observation) string {
	if obs.Outcome != facts.OutcomeWedge && obs.Outcome != facts.OutcomeDeadlock {
		return ""
	}
	// A stall worth the name is well under a few seconds (F1: 400 ms); a
	// run that needs longer on the real clock is reported as hanging.
	rt, err := sim.Run(t, obs.Scenario, c.options(sim.WithRealTime(), sim.WithWatchdog(c.flags().realTime))...)
	if err != nil {
		return "real-time recheck: " + err.Error()
	}
	switch rt.Outcome {
	case facts.OutcomeWedge, facts.OutcomeDeadlock:
		return fmt.Sprintf("real-time recheck: DEADLOCK, no progress on the real clock within %s either (%s)", c.flags().realTime, rt.Wedge.Headline)
	}
	var slowest time.Duration
	for _, cl := range rt.Closes {
		slowest = max(slowest, cl.Took)
	}
	return fmt.Sprintf("real-time recheck: STALL, the run finishes on the real clock (%s); slowest close took %s", rt.Outcome, slowest.Round(time.Millisecond))
}
