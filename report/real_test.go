package report

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

var (
	flagOut   = flag.String("report.out", "", "TestRealReport: write a report of real runs into this directory (for looking at timeline.html)")
	flagSeeds = flag.String("report.seeds", "42,377", "TestRealReport: comma-separated seeds of scenarios.Generate to run with -report.out")
)

// realResult runs scenarios.Generate(seed) and builds a Result from it with
// a hand-made verdict: every non-ok outcome fails harness.no-wedge (or
// harness.<outcome>), with the last events of the trace as evidence; an ok
// run gets a known violation of events.no-activity-after-close naming its
// close events, so the timeline has something to highlight.
func realResult(t *testing.T, seed uint64) Result {
	t.Helper()
	sc := scenarios.Generate(seed)
	obs, err := sim.Run(t, sc)
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	r := Result{
		Seed: seed, Scenario: sc, Outcome: string(obs.Outcome), TraceHash: obs.TraceHash,
		Events: obs.Events, Closes: obs.Closes, Final: obs.Final,
		Repro:   fmt.Sprintf("go test ./fuzz -run '^TestReplay$' -v -count=1 -closesim.seed=%d", seed),
		Wall:    obs.Wall,
		Virtual: obs.Virtual,
		Verdict: invariants.Verdict{Profile: invariants.Pion, Pass: []string{"harness.no-panic", "leak.sockets"}},
	}
	for _, c := range obs.Closes {
		r.Coverage = append(r.Coverage, fmt.Sprintf("%s/%s/dtls=%s/sctp=%s", c.Peer, c.Mode, c.Before.DTLS, c.Before.SCTP))
	}
	var closeEv []string
	for _, e := range obs.Events {
		if e.Kind == "close" {
			closeEv = append(closeEv, e.String())
		}
	}
	switch obs.Outcome {
	case facts.OutcomeOK:
		r.Verdict.Pass = append(r.Verdict.Pass, "harness.no-wedge")
		r.Verdict.Known = []invariants.Labeled{{
			Violation: invariants.Violation{Invariant: "events.no-activity-after-close", Peer: "A",
				Message: "hand-made: a callback after Close returned", Evidence: closeEv},
			Issue: invariants.KnownIssue{ID: "demo-known", Invariant: "events.no-activity-after-close",
				Signature: "hand-made", Link: "https://github.com/pion/webrtc/issues/2847", Note: "made up for the report test"},
		}}
	default:
		if obs.Wedge != nil {
			r.Diagnosis, r.Headline = obs.Wedge.Diagnosis, obs.Wedge.Headline
		}
		r.Diagnosis += obs.Panic + obs.Error
		n := len(obs.Events)
		var ev []string
		for _, e := range obs.Events[max(0, n-4):] {
			ev = append(ev, e.String())
		}
		r.Verdict.Fail = []invariants.Violation{{Invariant: "harness.no-wedge",
			Message: fmt.Sprintf("the run ended in a %s: %s", obs.Outcome, r.headline()), Evidence: append(closeEv, ev...)}}
		shrunk := sc
		shrunk.Steps = sc.Steps[:len(sc.Steps)-1]
		shrunk.Steps = append(shrunk.Steps, sc.Steps[len(sc.Steps)-1])
		r.Shrunk = &shrunk
	}
	return r
}

// TestRealTimeline renders the timeline of a real run (seed 42, an ok run
// closing both peers mid-transfer) and checks what a reader relies on.
func TestRealTimeline(t *testing.T) {
	r := realResult(t, 42)
	var b strings.Builder
	if err := WriteTimeline(&b, r); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	p := buildTimeline(r)
	if len(p.SVG.Arrows) == 0 {
		t.Errorf("no signaling arrows drawn")
	}
	for _, a := range p.SVG.Arrows {
		if a.Lost {
			t.Errorf("arrow %q drawn as lost in an ok run", a.Label)
		}
	}
	if len(p.SVG.Bars) != 2 {
		t.Errorf("close bars: got %d, want 2 (A and B close)", len(p.SVG.Bars))
	}
	marked := 0
	for _, row := range p.SVG.Rows {
		if row.Mark == "known" {
			marked++
		}
	}
	if marked == 0 {
		t.Errorf("no row highlighted for the known violation's evidence")
	}
	for _, want := range []string{"signal", "close", "hl-known", "A", "B", "demo-known"} {
		if !strings.Contains(html, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
}

// TestRealReport writes a full report of real runs into -report.out (skipped
// without it), to look at the timelines in a browser.
func TestRealReport(t *testing.T) {
	if *flagOut == "" {
		t.Skip("set -report.out=DIR to write a report of real runs")
	}
	s := Sweep{Name: "real", Started: time.Now(), Workers: 1, Profile: "pion", PionVersion: "github.com/pion/webrtc/v4 v4.2.26"}
	for _, f := range strings.Split(*flagSeeds, ",") {
		var seed uint64
		if _, err := fmt.Sscan(f, &seed); err != nil {
			t.Fatalf("-report.seeds: %v", err)
		}
		r := realResult(t, seed)
		if r.Outcome == string(facts.OutcomeOK) {
			// Make one ok run a failure too, so it gets a timeline.
			r.Verdict.Fail = []invariants.Violation{{Invariant: "local.closed-states", Peer: "B",
				Message: "hand-made failure <script>alert(1)</script>", Evidence: r.Verdict.Known[0].Violation.Evidence}}
		}
		s.Results = append(s.Results, r)
	}
	s.Wall = time.Since(s.Started)
	if err := os.MkdirAll(*flagOut, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Write(*flagOut, s); err != nil {
		t.Fatal(err)
	}
	t.Logf("report written to %s", *flagOut)
}
