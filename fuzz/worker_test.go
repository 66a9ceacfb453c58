package fuzz

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/closesim/closesim/coverage"
	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/report"
	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

var (
	flagWatchdog       = flag.Duration("closesim.watchdog", sim.DefaultWatchdog, "TestWorker: wall-clock bound of one scenario before it is declared wedged")
	flagShrinkFailures = flag.Bool("closesim.shrinkfailures", true, "TestWorker: shrink every failing scenario and report the minimal one")
	flagWorker         = flag.Bool("closesim.worker", false, "TestWorker: read seeds from stdin, write one result line per seed (used by closesim run)")
)

// resultPrefix marks result lines for the closesim CLI.
const resultPrefix = "closesim-result "

// TestWorker is the worker mode that closesim run drives: one seed per stdin
// line, one "closesim-result <json>" line per seed on stdout (a
// report.Result). It runs until stdin ends.
func TestWorker(t *testing.T) {
	if !*flagWorker {
		t.Skip("worker mode: run by closesim run (-closesim.worker)")
	}
	profile, known, err := judgeConfig()
	if err != nil {
		t.Fatal(err)
	}
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		if line == "" {
			continue
		}
		seed, err := strconv.ParseUint(line, 10, 64)
		if err != nil {
			t.Fatalf("worker: bad seed line %q", line)
		}
		r, err := runJudged(t, scenarios.Generate(seed), profile, known, sim.WithWatchdog(*flagWatchdog))
		if err != nil {
			t.Fatalf("worker: seed %d: %v", seed, err)
		}
		r.Seed, r.Repro = seed, fmt.Sprintf("closesim replay -seed %d   # or: %s", seed, repro(seed))
		if *flagShrinkFailures && len(r.Verdict.Fail) > 0 {
			sc := scenarios.Generate(seed)
			min, _ := scenarios.Shrink(sc, stillFails(t, r.Verdict.Fail[0].Invariant, false, *flagReplays))
			r.Shrunk = &min
		}
		js, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(out, "%s%s\n", resultPrefix, js)
		if err := out.Flush(); err != nil {
			t.Fatal(err)
		}
		if r.Outcome == string(sim.OutcomeWedge) || r.Outcome == string(sim.OutcomeDeadlock) {
			// A wedged bubble cannot be unwound: its goroutines and heap
			// stay in this process and slow every later run (each starts
			// with a full GC). The CLI starts a fresh worker instead.
			return
		}
	}
}

// runJudged runs sc, judges it and packs the result; the trace and states
// are kept only for runs that failed or did not end ok (a report needs
// them; thousands of passing runs would only slow the sweep down).
func runJudged(t *testing.T, sc scenarios.Scenario, p invariants.Profile, known []invariants.KnownIssue, opts ...sim.Option) (report.Result, error) {
	obs, err := sim.Run(t, sc, opts...)
	if err != nil {
		return report.Result{}, err
	}
	v := invariants.Judge(obs, p, known)
	r := report.Result{
		Scenario: sc, Outcome: string(obs.Outcome), Verdict: v, TraceHash: obs.TraceHash,
		Wall: obs.Wall, Virtual: obs.Virtual, Coverage: coverageKeys(obs),
	}
	if len(v.Fail) > 0 || obs.Outcome != sim.OutcomeOK {
		r.Events, r.Closes, r.Final = obs.Events, obs.Closes, obs.Final
		r.Diagnosis = summary(obs)
	}
	return r, nil
}

// coverageKeys names the close points a run hit (see package coverage).
func coverageKeys(obs *sim.Observation) []string { return coverage.Keys(obs) }
