package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/scenarios"
)

const hostile = `<script>alert("x&y")</script>`

func repro(seed uint64) string {
	return fmt.Sprintf("go test ./fuzz -run '^TestReplay$' -v -count=1 -closesim.seed=%d", seed)
}

// events is a small hand-made trace: an offer/answer exchange, a close by A
// and a late callback.
func events() []facts.Event {
	ms := time.Millisecond
	evs := []facts.Event{
		{At: 0, Peer: "A", Kind: "step", Detail: "#0 A offer", Step: &facts.StepFact{Index: 0, Kind: scenarios.KindOffer}},
		{At: 0, Peer: "A", Kind: "signal", Detail: "send offer #0 delay=10ms", Signal: &facts.SignalFact{What: "offer", Seq: 0}},
		{At: 10 * ms, Peer: "B", Kind: "signal", Detail: "recv offer #0", Signal: &facts.SignalFact{Recv: true, What: "offer", Seq: 0}},
		{At: 10 * ms, Peer: "B", Kind: "step", Detail: "#1 B answer", Step: &facts.StepFact{Index: 1, Kind: scenarios.KindAnswer}},
		{At: 10 * ms, Peer: "B", Kind: "signal", Detail: "send answer #1 delay=0s", Signal: &facts.SignalFact{What: "answer", Seq: 1}},
		{At: 10 * ms, Peer: "A", Kind: "signal", Detail: "recv answer #1", Signal: &facts.SignalFact{Recv: true, What: "answer", Seq: 1}},
		{At: 10 * ms, Peer: "B", Kind: "signal", Detail: "send candidate #2 delay=0s", Signal: &facts.SignalFact{What: "candidate", Seq: 2}},
		{At: 20 * ms, Peer: "A", Kind: "pc", Detail: "connected"},
		{At: 20 * ms, Peer: "A", Kind: "step", Detail: "#2 A close(close)", Step: &facts.StepFact{Index: 2, Kind: scenarios.KindClose}},
		{At: 20 * ms, Peer: "A", Kind: "close", Detail: "call close", Close: &facts.CloseFact{Mode: "close", By: facts.CloseByStep}},
		{At: 20 * ms, Peer: "A", Kind: "dc", Detail: `message "dc" #1 4B`},
		{At: 20 * ms, Peer: "A", Kind: "dc", Detail: `message "dc" #2 4B`},
		{At: 20 * ms, Peer: "A", Kind: "dc", Detail: `message "dc" #3 4B`},
		{At: 20 * ms, Peer: "A", Kind: "close", Detail: "return close err=<nil>", Close: &facts.CloseFact{Return: true, Mode: "close", By: facts.CloseByStep}},
		{At: 20 * ms, Peer: "", Kind: "harness", Detail: "settle 40s"},
		{At: 40 * time.Second, Peer: "A", Kind: "pc", Detail: "connected " + hostile},
	}
	for i := range evs {
		evs[i].Seq = i
	}
	return evs
}

func scenario(seed uint64, name string) scenarios.Scenario {
	sc := scenarios.Generate(seed)
	if name != "" {
		sc.Name = name
	}
	return sc
}

// sample returns one result of each kind: pass, known, fail (violation),
// wedge (fail by outcome and violation), crash (fail by outcome alone) and
// error.
func sample() []Result {
	evs := events()
	known := invariants.Labeled{
		Violation: invariants.Violation{Invariant: "events.none-during-close", Peer: "A",
			Message: "dtls closed fired during close", Evidence: []string{evs[9].String()}},
		Issue: invariants.KnownIssue{ID: "pion-fires-during-close", Invariant: "events.none-during-close",
			Signature: "fired during close", Link: "https://github.com/pion/webrtc/issues/1", Note: "Pion dispatches callbacks"},
	}
	fail := invariants.Violation{Invariant: "events.no-activity-after-close", Peer: "A",
		Message: "pc connected after close " + hostile, Evidence: []string{evs[15].String(), "state " + hostile}}
	mk := func(seed uint64, outcome string, v invariants.Verdict) Result {
		return Result{
			Seed: seed, Scenario: scenario(seed, ""), Outcome: outcome, Verdict: v,
			TraceHash: fmt.Sprintf("%016x", seed), Repro: repro(seed),
			Wall: time.Duration(seed+1) * time.Millisecond, Virtual: 40 * time.Second,
			Coverage: []string{"A/close/dtls=connected", fmt.Sprintf("k%d", seed%2)},
		}
	}
	pass := invariants.Verdict{Profile: invariants.Pion, Pass: []string{"harness.no-wedge", "leak.sockets"}}
	rs := []Result{
		mk(1, "ok", pass),
		mk(2, "ok", invariants.Verdict{Profile: invariants.Pion, Pass: []string{"harness.no-wedge"}, Known: []invariants.Labeled{known}}),
		mk(3, "ok", invariants.Verdict{Profile: invariants.Pion, Pass: []string{"harness.no-wedge"}, Known: []invariants.Labeled{known}, Fail: []invariants.Violation{fail}}),
		mk(4, "wedge", invariants.Verdict{Profile: invariants.Pion, Fail: []invariants.Violation{{Invariant: "harness.no-wedge", Message: "wedged"}}}),
		mk(5, "crash", invariants.Verdict{}),
		mk(6, "error", pass),
	}
	rs[2].Events, rs[2].Final = evs, []facts.PeerState{{Peer: "A", Signaling: "closed", Connection: "connected"}}
	rs[2].Closes = []facts.CloseSnapshot{{Step: 2, Peer: "A", Mode: "close", At: 20 * time.Millisecond, Before: facts.PeerState{Peer: "A", DTLS: "connected"}}}
	shrunk := scenario(3, "shrunk "+hostile)
	rs[2].Shrunk = &shrunk
	rs[2].Scenario.Name = "gen-3/close-dc_open-A-close " + hostile
	rs[3].Diagnosis = "1 goroutine(s) blocked on sync mutexes:\ngoroutine 7 waits in sync.(*Mutex).Lock at x\n"
	rs[4].Diagnosis = "fatal error: concurrent map writes\n\ngoroutine 1 [running]:\n"
	rs[5].Diagnosis = "vnet: " + hostile
	return rs
}

func TestStatus(t *testing.T) {
	rs := sample()
	tests := []struct {
		r    Result
		want Status
		ids  []string
	}{
		{rs[0], StatusPass, nil},
		{rs[1], StatusKnown, nil},
		{rs[2], StatusFail, []string{"events.no-activity-after-close"}},
		{rs[3], StatusFail, []string{"harness.no-wedge"}},
		{rs[4], StatusFail, []string{"outcome.crash"}},
		{rs[5], StatusFail, []string{"outcome.error"}},
		{Result{Outcome: "leak", Verdict: rs[1].Verdict}, StatusKnown, nil},
		{Result{Outcome: "leak"}, StatusFail, []string{"outcome.leak"}},
		{Result{Outcome: "error", Verdict: rs[1].Verdict}, StatusFail, []string{"outcome.error"}},
	}
	for i, tt := range tests {
		if got := tt.r.Status(); got != tt.want {
			t.Errorf("%d: Status() = %s, want %s", i, got, tt.want)
		}
		if got := tt.r.FailedIDs(); !reflect.DeepEqual(got, tt.ids) {
			t.Errorf("%d: FailedIDs() = %q, want %q", i, got, tt.ids)
		}
		if (tt.r.Message() != "") != (tt.want == StatusFail) {
			t.Errorf("%d: Message() = %q for status %s", i, tt.r.Message(), tt.want)
		}
	}
	if got, want := rs[3].Message(), "[harness.no-wedge] wedged"; got != want {
		t.Errorf("Message() = %q, want %q", got, want)
	}
	if got, want := rs[4].Message(), "outcome crash: fatal error: concurrent map writes"; got != want {
		t.Errorf("Message() = %q, want %q", got, want)
	}
}

func TestResultsRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		rs   []Result
	}{
		{"empty", nil},
		{"minimal", []Result{{Seed: 9, Outcome: "ok"}}},
		{"sample", sample()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteResults(&buf, tt.rs); err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(buf.String(), "\n"); n != len(tt.rs) {
				t.Fatalf("%d lines for %d results", n, len(tt.rs))
			}
			got, err := ReadResults(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.rs) {
				t.Fatalf("read %d results, wrote %d", len(got), len(tt.rs))
			}
			for i := range got {
				if !jsonEqual(got[i], tt.rs[i]) {
					t.Errorf("result %d changed in the round trip:\n got %+v\nwant %+v", i, got[i], tt.rs[i])
				}
			}
		})
	}
}

func TestReadResultsErrors(t *testing.T) {
	good := `{"seed":1,"outcome":"ok","scenario":{"version":1,"seed":1,"topology":{"port_a":1,"port_b":2},"settings":{"trickle":false,"disable_close_by_dtls":false},"faults":{},"steps":[]},"verdict":{"profile":"pion","pass":null},"trace_hash":"","repro":"","wall":1,"virtual":2}`
	tests := []struct {
		name, in, want string
	}{
		{"bad json on line 3", good + "\n" + good + "\n{\"seed\": 3,\n", "line 3:"},
		{"not an object", good + "\n[1,2]\n", "line 2: want a JSON object"},
		{"trailing data", good + " {}\n", "line 1: trailing data"},
		{"wrong type", "\n\n{\"seed\":\"x\",\"outcome\":\"ok\"}\n", "line 3:"},
		{"missing outcome", good + "\n" + `{"seed":2}` + "\n", "line 2: outcome: must not be empty"},
		{"garbage without newline", good + "\nnope", "line 2:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadResults(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	// Blank lines and a missing final newline are fine.
	rs, err := ReadResults(strings.NewReader("\n" + good + "\n\n" + good))
	if err != nil || len(rs) != 2 {
		t.Fatalf("got %d results, %v; want 2, nil", len(rs), err)
	}
}

func testSweep(rs []Result) Sweep {
	return Sweep{
		Name: "test " + hostile, Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Wall: 2 * time.Second,
		Workers: 2, Profile: "pion", PionVersion: "github.com/pion/webrtc/v4 v4.2.26", Results: rs,
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	s := testSweep(sample())
	if err := Write(dir, s); err != nil {
		t.Fatal(err)
	}

	// summary.json parses and says what the sample holds.
	var sum Summary
	readJSON(t, filepath.Join(dir, SummaryFile), &sum)
	if sum.Schema != SummarySchema || sum.Version != SummaryVersion {
		t.Errorf("schema %q version %d", sum.Schema, sum.Version)
	}
	if want := (VerdictCounts{Pass: 1, Known: 1, Fail: 4}); sum.Verdicts != want {
		t.Errorf("verdicts %+v, want %+v", sum.Verdicts, want)
	}
	if sum.Total != 6 || sum.Rates.ScenariosPerSecond != 3 {
		t.Errorf("total %d, rate %v; want 6, 3", sum.Total, sum.Rates.ScenariosPerSecond)
	}
	outcomes := map[string]int{}
	for _, o := range sum.Outcomes {
		outcomes[o.Outcome] = o.Count
	}
	if want := map[string]int{"ok": 3, "leak": 0, "deadlock": 0, "wedge": 1, "panic": 0, "error": 1, "crash": 1}; !reflect.DeepEqual(outcomes, want) {
		t.Errorf("outcomes %v, want %v", outcomes, want)
	}
	invs := map[string]InvariantCount{}
	for _, c := range sum.Invariants {
		invs[c.ID] = c
	}
	for _, want := range []InvariantCount{
		{ID: "harness.no-wedge", Pass: 4, Fail: 1, Judged: 5},
		{ID: "events.none-during-close", Known: 2, Judged: 2},
		{ID: "events.no-activity-after-close", Fail: 1, Judged: 1},
		{ID: "leak.sockets", Pass: 2, Judged: 2},
	} {
		got := invs[want.ID]
		if got.Pass != want.Pass || got.Known != want.Known || got.Fail != want.Fail || got.NA != want.NA || got.Judged != want.Judged {
			t.Errorf("invariant %s: %+v, want %+v", want.ID, got, want)
		}
	}
	if c := invs["events.none-during-close"]; c.FirstKnown == nil || len(c.KnownIDs) != 1 {
		t.Errorf("events.none-during-close: first known %v, known IDs %v; want a seed and one issue", c.FirstKnown, c.KnownIDs)
	}
	if c := invs["events.no-activity-after-close"]; c.FirstFail == nil {
		t.Errorf("events.no-activity-after-close: no first failing seed")
	}
	if len(sum.KnownIssues) != 1 || sum.KnownIssues[0].Count != 2 {
		t.Errorf("known issues %+v, want one covering 2 results", sum.KnownIssues)
	}
	if sum.Coverage.Distinct != 3 || sum.Coverage.Keys[0] != (KeyCount{"A/close/dtls=connected", 6}) {
		t.Errorf("coverage %+v", sum.Coverage)
	}
	// Measured against a reachable space: k0 and k1 are hit, k2 is not,
	// and "x" lies beyond it.
	sw := testSweep(nil)
	sw.Results, sw.Reachable = []Result{{Seed: 1, Coverage: []string{"k0", "k1", "x"}}}, []string{"k0", "k1", "k2"}
	c := Summarize(sw).Coverage
	if c.Reachable != 3 || c.Hit != 2 || c.Percent != 66.7 || !reflect.DeepEqual(c.Missing, []string{"k2"}) || c.Beyond != 1 {
		t.Errorf("measured coverage %+v", c)
	}
	if got, want := c.Line(), "close points: documented 2/3 (66.7%), 1 beyond the documented space (docs/coverage.md)"; got != want {
		t.Errorf("Line() = %q, want %q", got, want)
	}
	if got := (Coverage{}).Line(); got != "" {
		t.Errorf("unmeasured Line() = %q, want empty", got)
	}
	var seeds []uint64
	for _, f := range sum.Failures {
		seeds = append(seeds, f.Seed)
		if f.Repro != repro(f.Seed) || f.Dir != fmt.Sprintf("failures/seed-%d", f.Seed) || len(f.Invariants) == 0 || f.Message == "" {
			t.Errorf("failure %+v", f)
		}
	}
	if !reflect.DeepEqual(seeds, []uint64{3, 4, 5, 6}) {
		t.Errorf("failures %v, want seeds 3 4 5 6", seeds)
	}
	// The raw JSON has the documented top-level fields.
	var raw map[string]json.RawMessage
	readJSON(t, filepath.Join(dir, SummaryFile), &raw)
	for _, k := range []string{"schema", "version", "sweep", "total", "outcomes", "verdicts", "invariants", "known_issues", "rates", "time", "coverage", "failures"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("summary.json lacks %q", k)
		}
	}

	// junit.xml parses, with the counts and elements documented.
	data, err := os.ReadFile(filepath.Join(dir, JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	var ju JUnitSuites
	if err := xml.Unmarshal(data, &ju); err != nil {
		t.Fatalf("junit.xml: %v", err)
	}
	if len(ju.Suites) != 2 || ju.Suites[0].Tests != 6 || ju.Suites[0].Failures != 3 || ju.Errors != 1 {
		t.Fatalf("junit counts suites=%d tests=%d failures=%d errors=%d", len(ju.Suites), ju.Tests, ju.Failures, ju.Errors)
	}
	isuite := ju.Suites[1]
	if isuite.Name != "closesim.invariants" || ju.Tests != 6+isuite.Tests || ju.Failures != 3+isuite.Failures {
		t.Errorf("invariants suite %s tests=%d failures=%d; root tests=%d failures=%d", isuite.Name, isuite.Tests, isuite.Failures, ju.Tests, ju.Failures)
	}
	byID := map[string]JUnitCase{}
	for _, c := range isuite.Cases {
		byID[c.Name] = c
	}
	if c := byID["events.no-activity-after-close"]; c.Failure == nil || !strings.Contains(c.Failure.Message, "first: seed 3") {
		t.Errorf("failed invariant: %+v", c)
	}
	if c := byID["events.none-during-close"]; c.Failure != nil || c.Skipped != nil || !strings.Contains(c.SystemOut, "pion-fires-during-close") {
		t.Errorf("known-only invariant: %+v", c)
	}
	suite := ju.Suites[0]
	if suite.Name != "closesim" || suite.Skipped != 1 || suite.Timestamp != "2025-01-02T03:04:05Z" || suite.Time != "2.000000" {
		t.Errorf("suite %s skipped=%d timestamp=%s time=%s", suite.Name, suite.Skipped, suite.Timestamp, suite.Time)
	}
	cases := map[string]JUnitCase{}
	for _, c := range suite.Cases {
		cases[strings.Fields(c.Name)[0]] = c
	}
	if c := cases["seed-2"]; c.Skipped == nil || !strings.HasPrefix(c.Skipped.Message, "known: pion-fires-during-close") || c.Failure != nil {
		t.Errorf("known result: %+v", c)
	}
	c3 := cases["seed-3"]
	if c3.Failure == nil || c3.Failure.Type != "events.no-activity-after-close" || !strings.Contains(c3.Failure.Body, hostile) ||
		!strings.Contains(c3.Failure.Body, "repro: "+repro(3)) || !strings.Contains(c3.Failure.Body, events()[15].String()) {
		t.Errorf("failed result: %+v", c3.Failure)
	}
	if c3.Classname != "closesim/"+string(s.Results[2].Scenario.Phase) || c3.Name != "seed-3 "+s.Results[2].Scenario.Name {
		t.Errorf("classname %q name %q", c3.Classname, c3.Name)
	}
	if c := cases["seed-5"]; c.Failure == nil || c.Failure.Type != "outcome.crash" {
		t.Errorf("crash: %+v", c)
	}
	if c := cases["seed-6"]; c.Error == nil || c.Error.Type != "outcome.error" {
		t.Errorf("error: %+v", c)
	}
	if bytes.Contains(data, []byte("<script>")) {
		t.Errorf("junit.xml has an unescaped <script>")
	}

	// summary.md: tables, repro lines in code spans, no raw HTML.
	md := readString(t, filepath.Join(dir, MarkdownFile))
	for _, want := range []string{"| scenarios | pass | known | fail |", "### Invariants", "### Coverage", "### Failures (4)",
		"repro: `" + repro(3) + "`", "`events.no-activity-after-close`"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary.md lacks %q", want)
		}
	}
	if strings.Contains(mdOutsideCode(md), "<script>") {
		t.Errorf("summary.md has raw <script> outside code spans")
	}
	if strings.Contains(md, "capped") {
		t.Errorf("small summary.md has a truncation note")
	}

	// sweep.json and results.jsonl.
	var h Header
	readJSON(t, filepath.Join(dir, SweepFile), &h)
	if h.Name != s.Name || h.Results != 6 || h.Wall != s.Wall || !h.Started.Equal(s.Started) {
		t.Errorf("sweep.json %+v", h)
	}

	// Failure folders: only for failed results, with the documented files.
	for _, r := range s.Results {
		d := filepath.Join(dir, "failures", fmt.Sprintf("seed-%d", r.Seed))
		_, err := os.Stat(d)
		if r.Failed() != (err == nil) {
			t.Errorf("seed %d: failed=%v, folder err=%v", r.Seed, r.Failed(), err)
		}
		if !r.Failed() {
			continue
		}
		for _, f := range []string{"scenario.json", "trace.txt", "verdict.json", "timeline.html"} {
			if _, err := os.Stat(filepath.Join(d, f)); err != nil {
				t.Errorf("seed %d: %v", r.Seed, err)
			}
		}
		_, err = os.Stat(filepath.Join(d, "shrunk.json"))
		if (r.Shrunk != nil) != (err == nil) {
			t.Errorf("seed %d: shrunk=%v, shrunk.json err=%v", r.Seed, r.Shrunk != nil, err)
		}
		var v invariants.Verdict
		readJSON(t, filepath.Join(d, "verdict.json"), &v)
		if !jsonEqual(v, r.Verdict) {
			t.Errorf("seed %d: verdict.json differs", r.Seed)
		}
	}
	d3 := filepath.Join(dir, "failures", "seed-3")
	if got := readString(t, filepath.Join(d3, "trace.txt")); got != facts.Text(events()) {
		t.Errorf("trace.txt:\n%s", got)
	}
	sc, err := scenarios.Unmarshal([]byte(readString(t, filepath.Join(d3, "scenario.json"))))
	if err != nil || sc.Seed != 3 {
		t.Errorf("scenario.json: %v, seed %d", err, sc.Seed)
	}
}

// mdOutsideCode drops the code spans of a Markdown text.
func mdOutsideCode(md string) string {
	var b strings.Builder
	in := false
	for _, part := range strings.Split(md, "`") {
		if !in {
			b.WriteString(part)
		}
		in = !in
	}
	return b.String()
}

func TestMarkdownCap(t *testing.T) {
	const n = 100_000
	rs := make([]Result, n)
	for i := range rs {
		rs[i] = Result{
			Seed: uint64(i), Scenario: scenarios.Scenario{Name: fmt.Sprintf("gen-%d/close-mid_transfer-both-close", i)},
			Outcome: "wedge", Repro: repro(uint64(i)), Coverage: []string{fmt.Sprintf("key-%d", i%5000)},
			Verdict: invariants.Verdict{Fail: []invariants.Violation{{Invariant: "harness.no-wedge",
				Message: "goroutine 112 waits in sync.(*RWMutex).RLock at webrtc.(*SCTPTransport).onClose " + hostile}}},
		}
	}
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, testSweep(rs)); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	if len(md) > MaxMarkdown {
		t.Fatalf("summary.md is %d bytes, cap %d", len(md), MaxMarkdown)
	}
	if !strings.Contains(md, "summary.md is capped at 1048576 bytes") || !strings.Contains(md, "of 100000 failures") {
		t.Errorf("no truncation note; tail:\n%s", md[max(0, len(md)-400):])
	}
	if !strings.Contains(md, "### Failures (100000)") || !strings.Contains(md, "less-hit key(s) not shown") {
		t.Errorf("missing failures header or coverage cut")
	}

	// Tight limits: always under the limit, with the note.
	sum := Summarize(testSweep(rs[:200]))
	for _, limit := range []int{2048, 4096, 20000} {
		out := markdown(sum, limit)
		if len(out) > limit || !strings.Contains(out, "capped") {
			t.Errorf("limit %d: %d bytes, note=%v", limit, len(out), strings.Contains(out, "capped"))
		}
	}
}

// writeShard writes a shard of results into a fresh directory.
func writeShard(t *testing.T, shard string, workers int, started time.Time, rs []Result) string {
	t.Helper()
	dir := t.TempDir()
	s := testSweep(rs)
	s.Name, s.Shard, s.Workers, s.Started = "nightly", shard, workers, started
	if err := Write(dir, s); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestMerge(t *testing.T) {
	rs := sample()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	a := writeShard(t, "0/2", 2, t0, []Result{rs[0], rs[2], rs[4]})
	b := writeShard(t, "1/2", 3, t0.Add(time.Second), []Result{rs[5], rs[1], rs[3], rs[2]}) // seed 3 in both: same result
	s, err := Merge([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	var seeds []uint64
	for _, r := range s.Results {
		seeds = append(seeds, r.Seed)
	}
	if !reflect.DeepEqual(seeds, []uint64{1, 2, 3, 4, 5, 6}) {
		t.Errorf("merged seeds %v, want 1..6 once each", seeds)
	}
	if s.Shard != "" || s.Workers != 5 || s.Name != "nightly" || !s.Started.Equal(t0) || s.Wall != 3*time.Second || s.Profile != "pion" {
		t.Errorf("merged header: shard %q workers %d name %q started %v wall %v profile %q", s.Shard, s.Workers, s.Name, s.Started, s.Wall, s.Profile)
	}
	if !jsonEqual(s.Results[2], rs[2]) {
		t.Errorf("seed 3 changed in the merge")
	}
	// The merged sweep writes and merges again.
	out := t.TempDir()
	if err := Write(out, s); err != nil {
		t.Fatal(err)
	}
	again, err := Merge([]string{out, a})
	if err != nil || len(again.Results) != 6 {
		t.Errorf("re-merge: %d results, %v", len(again.Results), err)
	}
}

func TestMergeConflict(t *testing.T) {
	rs := sample()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	base := writeShard(t, "1/2", 1, t0, []Result{rs[0], rs[1]})
	tests := []struct {
		name   string
		mutate func(*Result)
		want   string
	}{
		{"outcome", func(r *Result) { r.Outcome = "leak" }, `seed 2: conflicting results in`},
		{"trace hash", func(r *Result) { r.TraceHash = "ffff" }, "trace_hash"},
		{"scenario", func(r *Result) { r.Scenario.Settings.Trickle = !r.Scenario.Settings.Trickle }, "scenario differs"},
		{"verdict", func(r *Result) { r.Verdict.Known = nil }, "verdict (known vs pass) differs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rs[1]
			r.Verdict.Known = append([]invariants.Labeled(nil), r.Verdict.Known...)
			tt.mutate(&r)
			other := writeShard(t, "2/2", 1, t0, []Result{r})
			_, err := Merge([]string{base, other})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), other) {
				t.Fatalf("error %v, want one containing %q and the directory", err, tt.want)
			}
		})
	}
	// Wall time alone is no conflict.
	r := rs[1]
	r.Wall *= 7
	if _, err := Merge([]string{base, writeShard(t, "2/2", 1, t0, []Result{r})}); err != nil {
		t.Errorf("wall time differs: %v", err)
	}
}

func TestMergeErrors(t *testing.T) {
	rs := sample()
	t0 := time.Now()
	base := writeShard(t, "1/2", 1, t0, rs[:1])
	w3c := t.TempDir()
	s := testSweep(rs[1:2])
	s.Profile = "w3c"
	if err := Write(w3c, s); err != nil {
		t.Fatal(err)
	}
	truncated := writeShard(t, "2/2", 1, t0, rs[1:3])
	data, _ := os.ReadFile(filepath.Join(truncated, ResultsFile))
	lines := strings.SplitAfter(string(data), "\n")
	os.WriteFile(filepath.Join(truncated, ResultsFile), []byte(lines[0]), 0o644)
	badLine := writeShard(t, "2/2", 1, t0, rs[1:3])
	os.WriteFile(filepath.Join(badLine, ResultsFile), []byte(lines[0]+"{oops\n"), 0o644)

	tests := []struct {
		name string
		dirs []string
		want string
	}{
		{"none", nil, "no report directories"},
		{"missing dir", []string{base, filepath.Join(base, "nope")}, "sweep.json"},
		{"profile", []string{base, w3c}, `profile "w3c"`},
		{"truncated", []string{base, truncated}, "has 1 results but sweep.json says 2"},
		{"bad line", []string{base, badLine}, "results.jsonl: line 2:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Merge(tt.dirs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestMergedShard(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"0/2", "1/2"}, ""},
		{[]string{"2/3", "1/3", "3/3"}, ""},
		{[]string{"1/3", "3/3"}, "1/3+3/3"},
		{[]string{"1/2", "1/3"}, "1/2+1/3"},
		{[]string{"x"}, "x"},
	}
	for _, tt := range tests {
		if got := mergedShard(append([]string(nil), tt.in...)); got != tt.want {
			t.Errorf("mergedShard(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClassOf(t *testing.T) {
	tests := []struct {
		name  string
		phase scenarios.Phase
		want  string
	}{
		{"gen-42/close-mid_transfer-both-close", scenarios.PhaseMidTransfer, "mid_transfer"},
		{"close-dc_open-A-graceful", scenarios.PhaseDCOpen, "dc_open"},
		{"gen-7/close-dc_open-A-close", "", "gen"}, // no phase: the name is not parsed for one
		{"fuzz-123", "", "fuzz"},
		{"connect-data-close", "", "connect-data-close"},
		{"custom/thing", "", "custom"},
		{"", "", "unnamed"},
	}
	for _, tt := range tests {
		if got := classOf(scenarios.Scenario{Name: tt.name, Phase: tt.phase}); got != tt.want {
			t.Errorf("classOf(%q, phase %q) = %q, want %q", tt.name, tt.phase, got, tt.want)
		}
	}
}

func TestMarkdownEscaping(t *testing.T) {
	tests := []struct{ in, code, text string }{
		{"plain", "`plain`", "plain"},
		{"a`b", "`` a`b ``", "a\\`b"},
		{"x|y\nz", "`x¦y ⏎ z`", "x\\|y z"},
		{hostile, "`" + hostile + "`", "&lt;script&gt;alert(\"x&amp;y\")&lt;/script&gt;"},
		{"", "` `", ""},
	}
	for _, tt := range tests {
		if got := mdCode(tt.in); got != tt.code {
			t.Errorf("mdCode(%q) = %q, want %q", tt.in, got, tt.code)
		}
		if got := mdText(tt.in); got != tt.text {
			t.Errorf("mdText(%q) = %q, want %q", tt.in, got, tt.text)
		}
	}
}

func TestTimelineEscaping(t *testing.T) {
	r := sample()[2]
	r.Repro += " " + hostile
	r.Diagnosis = "panic: " + hostile
	r.Verdict.Known[0].Issue.Link = "javascript:alert(1)"
	r.Verdict.Known[0].Issue.ID = `"><img src=x onerror=alert(1)>`
	r.Final[0].Signaling = hostile
	var b strings.Builder
	if err := WriteTimeline(&b, r); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, bad := range []string{"<script", "<img", `href="javascript`, `onerror=alert(1)>`} {
		if strings.Contains(html, bad) {
			t.Errorf("timeline contains %q", bad)
		}
	}
	if n := strings.Count(html, "&lt;script&gt;"); n < 6 {
		t.Errorf("escaped <script> appears %d times, want it in message, evidence, name, event, diagnosis, repro, final state", n)
	}
	// Self-contained: no external asset (a link to the known issue is fine).
	for _, ext := range []string{"<link", "<iframe", "@import", "url(http", "url(//"} {
		if strings.Contains(html, ext) {
			t.Errorf("timeline references something external: %q", ext)
		}
	}
}

// TestTimelineShowsFaults: a packet fault event gets its own style, so
// a reader sees where the network misbehaved.
func TestTimelineShowsFaults(t *testing.T) {
	r := sample()[2]
	r.Events = append(r.Events, facts.Event{Seq: len(r.Events), At: r.Events[len(r.Events)-1].At, Kind: "fault",
		Detail: "drop any *->* p=0.2 on dtls-alert A->B"})
	var b strings.Builder
	if err := WriteTimeline(&b, r); err != nil {
		t.Fatal(err)
	}
	if html := b.String(); !strings.Contains(html, `class="k-fault"`) || !strings.Contains(html, "on dtls-alert A-&gt;B") {
		t.Errorf("timeline does not show the fault event with its class")
	}
}

// TestTimelineShowsStatesAtReturn: the close table shows each close's
// states at its call and at its return, and says so for one that never
// returned.
func TestTimelineShowsStatesAtReturn(t *testing.T) {
	r := sample()[2]
	before := facts.PeerState{Peer: "A", Signaling: "stable", DTLS: "connected"}
	after := facts.PeerState{Peer: "A", Signaling: "closed", DTLS: "closed-at-return"}
	r.Closes = []facts.CloseSnapshot{
		{Step: 2, Peer: "A", Mode: "close", By: facts.CloseByStep, Before: before, After: &after},
		{Step: 2, Peer: "A", Mode: "close", By: facts.CloseByExtra, Before: before},
	}
	var b strings.Builder
	if err := WriteTimeline(&b, r); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{"<td>return</td>", "closed-at-return", "never returned", "<td>extra</td>"} {
		if !strings.Contains(html, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
}

func TestTimelineLayout(t *testing.T) {
	r := sample()[2]
	p := buildTimeline(r)
	rows := p.SVG.Rows
	// 16 events, the three dc messages collapse into one row.
	if len(rows) != 14 {
		t.Fatalf("%d rows, want 14", len(rows))
	}
	tests := []struct {
		row              int
		lane, time, mark string
		close            bool
	}{
		{0, "a", "0.000s", "", false},
		{2, "b", "0.010s", "", false},
		{8, "a", "", "", true},              // step close(close)
		{9, "a", "", "known", true},         // close call: evidence of the known issue
		{10, "a", "", "", false},            // the collapsed messages
		{12, "w", "", "", false},            // harness settle
		{13, "a", "40.000s", "fail", false}, // the late pc connected: evidence of the failure
	}
	for _, tt := range tests {
		row := rows[tt.row]
		if row.Lane != tt.lane || row.Time != tt.time || row.Mark != tt.mark || row.Close != tt.close {
			t.Errorf("row %d: lane %s time %q mark %q close %v; want %s %q %q %v", tt.row, row.Lane, row.Time, row.Mark, row.Close, tt.lane, tt.time, tt.mark, tt.close)
		}
	}
	if !strings.Contains(rows[10].Detail, "×3") {
		t.Errorf("collapsed row %q", rows[10].Detail)
	}
	if rows[13].Gap != "+39.98s" {
		t.Errorf("gap %q", rows[13].Gap)
	}
	// Arrows: offer A->B, answer B->A, candidate #2 never received.
	if len(p.SVG.Arrows) != 3 {
		t.Fatalf("%d arrows, want 3", len(p.SVG.Arrows))
	}
	offer, answer, lost := p.SVG.Arrows[0], p.SVG.Arrows[1], p.SVG.Arrows[2]
	if offer.X1 >= offer.X2 || offer.Y1 >= offer.Y2 || offer.Label != "offer #0" || offer.Lost {
		t.Errorf("offer arrow %+v", offer)
	}
	if answer.X1 <= answer.X2 || answer.Label != "answer #1" {
		t.Errorf("answer arrow %+v", answer)
	}
	if !lost.Lost || !strings.HasPrefix(lost.Label, "candidate #2") {
		t.Errorf("lost arrow %+v", lost)
	}
	if len(p.SVG.Bars) != 1 || p.SVG.Bars[0].Open || p.SVG.Bars[0].X != tlLaneA {
		t.Errorf("close bars %+v", p.SVG.Bars)
	}
	// The violations are listed, their evidence linked to rows.
	if len(p.Fail) != 1 || p.Fail[0].Evidence[0].Anchor != "e15" || p.Fail[0].Evidence[1].Anchor != "" {
		t.Errorf("fail %+v", p.Fail)
	}
	// A close that never returned is drawn open.
	r.Events = r.Events[:13]
	if p := buildTimeline(r); len(p.SVG.Bars) != 1 || !p.SVG.Bars[0].Open {
		t.Errorf("open close bar: %+v", p.SVG.Bars)
	}
	// No events: a note, no rows.
	r.Events = nil
	if p := buildTimeline(r); len(p.SVG.Rows) != 0 || p.Note == "" {
		t.Errorf("no events: %d rows, note %q", len(p.SVG.Rows), p.Note)
	}
}

func TestTimelineRowCap(t *testing.T) {
	var evs []facts.Event
	for i := range tlMaxRows + 50 {
		peer := []string{"A", "B"}[i%2] // alternating peers never collapse
		evs = append(evs, facts.Event{Seq: i, Peer: peer, Kind: "dc", Detail: fmt.Sprintf("message \"dc\" #%d 4B", i)})
	}
	p := buildTimeline(Result{Outcome: "ok", Events: evs})
	if len(p.SVG.Rows) != tlMaxRows || !strings.Contains(p.Note, "Only the first") {
		t.Errorf("%d rows, note %q", len(p.SVG.Rows), p.Note)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestTimeSplit: where a sweep's time went, from the results' wall times,
// the worker starts and the shrinking times.
func TestTimeSplit(t *testing.T) {
	ms := func(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }
	sw := Sweep{
		WorkerStarts: 3, WorkerStartWall: ms(300),
		Results: []Result{
			{Outcome: "ok", Wall: ms(2)},
			{Outcome: "wedge", Wall: ms(10)},
			{Outcome: "ok", Wall: ms(4), AfterWedge: true},
			{Outcome: "deadlock", Wall: ms(30)},
			{Outcome: "leak", Wall: ms(6), AfterWedge: true, ShrinkWall: ms(500)},
			{Outcome: "ok", Wall: ms(3)},
			{Outcome: "wedge", Wall: ms(20)},
		},
	}
	got := Summarize(sw).Time
	want := TimeSplit{
		RunningSeconds: 0.015, Runs: 4,
		WedgedSeconds: 0.060, Wedged: 3, WedgedMedianMillis: 20, WedgedMaxMillis: 30,
		WorkerStartSeconds: 0.3, WorkerStarts: 3, ShrinkingSeconds: 0.5, Shrinks: 1,
		AfterWedgeMedianMillis: 5, AfterWedgeRuns: 2, OtherMedianMillis: 2.5,
	}
	want.WedgedShare = 0.060 / (0.015 + 0.060 + 0.3 + 0.5)
	approx := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if got.Runs != want.Runs || got.Wedged != want.Wedged || got.WorkerStarts != want.WorkerStarts ||
		got.Shrinks != want.Shrinks || got.AfterWedgeRuns != want.AfterWedgeRuns ||
		!approx(got.RunningSeconds, want.RunningSeconds) || !approx(got.WedgedSeconds, want.WedgedSeconds) ||
		!approx(got.WedgedMedianMillis, want.WedgedMedianMillis) || !approx(got.WedgedMaxMillis, want.WedgedMaxMillis) ||
		!approx(got.WorkerStartSeconds, want.WorkerStartSeconds) || !approx(got.ShrinkingSeconds, want.ShrinkingSeconds) ||
		!approx(got.AfterWedgeMedianMillis, want.AfterWedgeMedianMillis) || !approx(got.OtherMedianMillis, want.OtherMedianMillis) ||
		!approx(got.WedgedShare, want.WedgedShare) {
		t.Fatalf("time split\n got %+v\nwant %+v", got, want)
	}
	if line := got.Line(); !strings.Contains(line, "wedged 0.06s (3, 7%; median 20.0 ms, max 30.0 ms)") {
		t.Errorf("line %q", line)
	}
	if (Summarize(Sweep{}).Time != TimeSplit{}) {
		t.Errorf("an empty sweep has a time split: %+v", Summarize(Sweep{}).Time)
	}
}
