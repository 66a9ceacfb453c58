package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/closesim/closesim/coverage"
	"github.com/closesim/closesim/invariants"
)

// SummarySchema names the summary.json schema; SummaryVersion is its
// version. A reader checks both. The version changes when a field is removed
// or changes meaning; adding a field does not change it.
const (
	SummarySchema  = "closesim.summary"
	SummaryVersion = 1
)

// Summary is the content of summary.json (see the package documentation
// and SCHEMA.md for the schema).
type Summary struct {
	// Schema is SummarySchema.
	Schema string `json:"schema"`
	// Version is SummaryVersion.
	Version int `json:"version"`
	// Sweep is the header of the sweep.
	Sweep Header `json:"sweep"`
	// Total is the number of results.
	Total int `json:"total"`
	// Outcomes counts results per outcome.
	Outcomes []OutcomeCount `json:"outcomes"`
	// Verdicts counts results per Status.
	Verdicts VerdictCounts `json:"verdicts"`
	// Invariants counts, per invariant, the results in which it held, was
	// violated only in known ways, or failed.
	Invariants []InvariantCount `json:"invariants"`
	// KnownIssues counts, per known issue, the results it covered.
	KnownIssues []KnownIssueCount `json:"known_issues"`
	// Rates are throughput figures.
	Rates Rates `json:"rates"`
	// Time is where the workers' wall time went.
	Time TimeSplit `json:"time"`
	// Coverage counts the close-point keys hit.
	Coverage Coverage `json:"coverage"`
	// Failures lists every failed result, in seed order.
	Failures []Failure `json:"failures"`
	// Conformance is the W3C conformance table (ConformanceOf), for a
	// sweep under the w3c profile only.
	Conformance []ConformanceResult `json:"conformance,omitempty"`
	// Teardown is the per-module teardown coverage of Pion (Sweep.Teardown;
	// the functions are in teardown-coverage.json), absent when not
	// measured.
	Teardown []coverage.ModuleCoverage `json:"teardown_coverage,omitempty"`
}

// Header is the sweep without its results: the content of sweep.json and
// the "sweep" object of summary.json.
type Header struct {
	// Version is the version of the sweep.json format (SweepVersion).
	Version int `json:"version"`
	// Name labels the sweep (Sweep.Name).
	Name string `json:"name"`
	// Started is when the sweep started (Sweep.Started).
	Started time.Time `json:"started"`
	// Wall is the sweep's wall time in nanoseconds (Sweep.Wall).
	Wall time.Duration `json:"wall"`
	// WallSeconds is Wall in seconds.
	WallSeconds float64 `json:"wall_seconds"`
	// Workers is the number of worker processes (Sweep.Workers).
	Workers int `json:"workers"`
	// Shard is "i/n" or "" (Sweep.Shard).
	Shard string `json:"shard"`
	// Profile is the invariants profile (Sweep.Profile).
	Profile string `json:"profile"`
	// PionVersion is the Pion version under test (Sweep.PionVersion).
	PionVersion string `json:"pion_version"`
	// Results is the number of results (lines of results.jsonl).
	Results int `json:"results"`
	// Interrupted says the sweep was stopped before it ran every seed
	// (Sweep.Interrupted); Planned is how many it was to run.
	Interrupted bool `json:"interrupted,omitempty"`
	Planned     int  `json:"planned,omitempty"`
}

// SweepVersion is the version of the sweep.json format.
const SweepVersion = 1

// OutcomeCount is the number of results with one outcome.
type OutcomeCount struct {
	Outcome string `json:"outcome"` // a facts.Outcome or "crash"
	Count   int    `json:"count"`   // results with that outcome
}

// VerdictCounts counts results per Status.
type VerdictCounts struct {
	Pass  int `json:"pass"`  // results with StatusPass
	Known int `json:"known"` // results with StatusKnown
	Fail  int `json:"fail"`  // results with StatusFail
}

// InvariantCount is how one invariant fared over a sweep. Pass counts the
// results that list it in Verdict.Pass; NA those that list it in
// Verdict.NA (nothing to judge); Known those with at least one known
// violation of it; Fail those with at least one failed violation of it. A
// result with both a known and a failed violation of the same invariant
// counts in both.
type InvariantCount struct {
	ID    string `json:"id"`    // the invariant's ID
	Pass  int    `json:"pass"`  // results in which it held
	NA    int    `json:"na"`    // results that gave it nothing to judge
	Known int    `json:"known"` // results with a known violation of it
	Fail  int    `json:"fail"`  // results with a failed violation of it
	// Judged counts the results that gave it something to judge (a pass,
	// a known or a failed violation).
	Judged int `json:"judged"`
	// FirstKnown and FirstFail are the seeds of the first results (in
	// result order) with a known or a failed violation of it.
	FirstKnown *uint64 `json:"first_known,omitempty"`
	FirstFail  *uint64 `json:"first_fail,omitempty"`
	// KnownIDs lists the known issues that covered its violations.
	KnownIDs []string `json:"known_ids,omitempty"`
}

// KnownIssueCount is how many results one known issue covered (a result
// counts once per issue however many of its violations matched it).
type KnownIssueCount struct {
	ID        string `json:"id"`             // the issue's ID
	Invariant string `json:"invariant"`      // the invariant it covers
	Link      string `json:"link,omitempty"` // the upstream issue, if any
	Note      string `json:"note,omitempty"` // why it is accepted
	Count     int    `json:"count"`          // results it covered
}

// Rates are throughput figures of a sweep.
type Rates struct {
	// ScenariosPerSecond is Total divided by the sweep's wall time (0 when
	// the wall time is unknown).
	ScenariosPerSecond float64 `json:"scenarios_per_second"`
	// RunWallSeconds is the sum of the results' wall times: the time
	// workers spent running scenarios.
	RunWallSeconds float64 `json:"run_wall_seconds"`
	// MeanRunMillis is RunWallSeconds per result, in milliseconds.
	MeanRunMillis float64 `json:"mean_run_ms"`
	// VirtualSeconds is the sum of the results' virtual times.
	VirtualSeconds float64 `json:"virtual_seconds"`
	// VirtualPerWall is VirtualSeconds / RunWallSeconds: how much faster
	// than real time the runs went.
	VirtualPerWall float64 `json:"virtual_per_wall"`
}

// TimeSplit says where a sweep's worker time went: running scenarios that
// ended, scenarios that wedged (each costs its detection time), starting
// worker processes, and shrinking failures. Seconds are wall time summed
// over workers.
type TimeSplit struct {
	// RunningSeconds is the wall time of the runs that did not wedge
	// (Runs of them).
	RunningSeconds float64 `json:"running_seconds"`
	Runs           int     `json:"runs"`
	// WedgedSeconds is the wall time of the wedged runs (Wedged of
	// them, outcomes wedge and deadlock), with the median and the longest.
	WedgedSeconds      float64 `json:"wedged_seconds"`
	Wedged             int     `json:"wedged"`
	WedgedMedianMillis float64 `json:"wedged_median_ms"`
	WedgedMaxMillis    float64 `json:"wedged_max_ms"`
	// WedgedShare is WedgedSeconds over the sum of the four parts.
	WedgedShare float64 `json:"wedged_share"`
	// WorkerStartSeconds is the time worker processes took to start
	// (WorkerStarts of them).
	WorkerStartSeconds float64 `json:"worker_start_seconds"`
	WorkerStarts       int     `json:"worker_starts"`
	// ShrinkingSeconds is the time spent shrinking (Shrinks results).
	ShrinkingSeconds float64 `json:"shrinking_seconds"`
	Shrinks          int     `json:"shrinks"`
	// AfterWedgeMedianMillis is the median wall time of the runs that came
	// right after a wedge (AfterWedgeRuns of them, wedges excluded), and
	// OtherMedianMillis that of the other runs that did not wedge: equal
	// when a wedge costs the runs after it nothing.
	AfterWedgeMedianMillis float64 `json:"after_wedge_median_ms"`
	AfterWedgeRuns         int     `json:"after_wedge_runs"`
	OtherMedianMillis      float64 `json:"other_median_ms"`
}

// Line says in one line where the time went.
func (t TimeSplit) Line() string {
	s := fmt.Sprintf("time: running %.2fs (%d runs), wedged %.2fs (%d, %.0f%%; median %.1f ms, max %.1f ms)",
		t.RunningSeconds, t.Runs, t.WedgedSeconds, t.Wedged, 100*t.WedgedShare, t.WedgedMedianMillis, t.WedgedMaxMillis)
	if t.WorkerStarts > 0 {
		s += fmt.Sprintf(", worker starts %.2fs (%d)", t.WorkerStartSeconds, t.WorkerStarts)
	}
	if t.Shrinks > 0 {
		s += fmt.Sprintf(", shrinking %.2fs (%d)", t.ShrinkingSeconds, t.Shrinks)
	}
	if t.AfterWedgeRuns > 0 {
		s += fmt.Sprintf("; median run %.1f ms right after a wedge (%d), %.1f ms otherwise", t.AfterWedgeMedianMillis, t.AfterWedgeRuns, t.OtherMedianMillis)
	}
	return s
}

// timeSplit computes the TimeSplit of s.
func timeSplit(s Sweep) TimeSplit {
	t := TimeSplit{WorkerStarts: s.WorkerStarts, WorkerStartSeconds: s.WorkerStartWall.Seconds()}
	var wedged, after, other []time.Duration
	for _, r := range s.Results {
		if r.ShrinkWall > 0 {
			t.Shrinks++
			t.ShrinkingSeconds += r.ShrinkWall.Seconds()
		}
		switch {
		case r.Outcome == "wedge" || r.Outcome == "deadlock":
			wedged = append(wedged, r.Wall)
			t.WedgedSeconds += r.Wall.Seconds()
			continue
		case r.AfterWedge:
			after = append(after, r.Wall)
		default:
			other = append(other, r.Wall)
		}
		t.Runs++
		t.RunningSeconds += r.Wall.Seconds()
	}
	t.Wedged, t.AfterWedgeRuns = len(wedged), len(after)
	if len(wedged) > 0 {
		t.WedgedMedianMillis = millis(median(wedged))
		t.WedgedMaxMillis = millis(slices.Max(wedged))
	}
	t.AfterWedgeMedianMillis, t.OtherMedianMillis = millis(median(after)), millis(median(other))
	if all := t.RunningSeconds + t.WedgedSeconds + t.WorkerStartSeconds + t.ShrinkingSeconds; all > 0 {
		t.WedgedShare = t.WedgedSeconds / all
	}
	return t
}

// median returns the median of ds (the mean of the middle two for an even
// count), 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func millis(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 }

// Coverage counts the close-point keys the sweep hit.
type Coverage struct {
	// Distinct is the number of distinct keys.
	Distinct int `json:"distinct"`
	// Reachable is the size of the documented reachable space the sweep
	// was measured against (0: not measured); Hit how many of its close
	// points the sweep reached, Percent the share; Missing lists the
	// others, Beyond counts close points reached outside it.
	Reachable int      `json:"reachable,omitempty"`
	Hit       int      `json:"hit,omitempty"`
	Percent   float64  `json:"percent,omitempty"`
	Missing   []string `json:"missing,omitempty"`
	Beyond    int      `json:"beyond,omitempty"`
	// Keys has one entry per key, most hit first (ties by key).
	Keys []KeyCount `json:"keys"`
}

// Line says in one line how much of the documented space the sweep hit,
// or "" if it was not measured against one.
func (c Coverage) Line() string {
	if c.Reachable == 0 {
		return ""
	}
	return fmt.Sprintf("close points: documented %d/%d (%.1f%%), %d beyond the documented space (docs/coverage.md)",
		c.Hit, c.Reachable, c.Percent, c.Beyond)
}

// KeyCount is the number of results that hit one coverage key (a result
// counts once per key).
type KeyCount struct {
	Key   string `json:"key"`   // the close-point key, as the worker reported it
	Count int    `json:"count"` // results that hit it
}

// Failure is one failed result.
type Failure struct {
	Seed     uint64 `json:"seed"`     // the result's seed
	Scenario string `json:"scenario"` // the scenario's name
	Outcome  string `json:"outcome"`  // the run's outcome
	// Invariants are the failed invariant IDs (see Result.FailedIDs).
	Invariants []string `json:"invariants"`
	// Message is Result.Message.
	Message string `json:"message"`
	// Repro is the one-line replay command.
	Repro string `json:"repro"`
	// Dir is the failure's folder relative to the report directory.
	Dir string `json:"dir"`
}

// header returns the Sweep's header.
func header(s Sweep) Header {
	return Header{
		Version: SweepVersion, Name: s.Name, Started: s.Started, Wall: s.Wall,
		WallSeconds: s.Wall.Seconds(), Workers: s.Workers, Shard: s.Shard,
		Profile: s.Profile, PionVersion: s.PionVersion, Results: len(s.Results),
		Interrupted: s.Interrupted, Planned: s.Planned,
	}
}

// Summarize computes the summary of a sweep.
func Summarize(s Sweep) Summary {
	sum := Summary{
		Schema: SummarySchema, Version: SummaryVersion, Sweep: header(s),
		Total: len(s.Results), Invariants: []InvariantCount{}, KnownIssues: []KnownIssueCount{},
		Failures: []Failure{}, Coverage: Coverage{Keys: []KeyCount{}},
	}
	outcomes := map[string]int{}
	invs := map[string]*InvariantCount{}
	inv := func(id string) *InvariantCount {
		c := invs[id]
		if c == nil {
			c = &InvariantCount{ID: id}
			invs[id] = c
		}
		return c
	}
	issues := map[string]*KnownIssueCount{}
	keys := map[string]int{}
	dirs := failureDirs(s.Results)
	var runWall, virtual time.Duration
	for i := range s.Results {
		r := &s.Results[i]
		outcomes[r.Outcome]++
		switch r.Status() {
		case StatusPass:
			sum.Verdicts.Pass++
		case StatusKnown:
			sum.Verdicts.Known++
		default:
			sum.Verdicts.Fail++
		}
		judged := map[string]bool{}
		for _, id := range dedupe(r.Verdict.Pass) {
			inv(id).Pass++
			judged[id] = true
		}
		for _, id := range dedupe(r.Verdict.NA) {
			inv(id).NA++
		}
		seenK, seenF, seenI := map[string]bool{}, map[string]bool{}, map[string]bool{}
		for _, l := range r.Verdict.Known {
			if c := inv(l.Violation.Invariant); !seenK[l.Violation.Invariant] {
				seenK[l.Violation.Invariant] = true
				judged[c.ID] = true
				c.Known++
				if c.FirstKnown == nil {
					seed := r.Seed
					c.FirstKnown = &seed
				}
				if !slices.Contains(c.KnownIDs, l.Issue.ID) {
					c.KnownIDs = append(c.KnownIDs, l.Issue.ID)
				}
			} else if !slices.Contains(c.KnownIDs, l.Issue.ID) {
				c.KnownIDs = append(c.KnownIDs, l.Issue.ID)
			}
			if !seenI[l.Issue.ID] {
				seenI[l.Issue.ID] = true
				c := issues[l.Issue.ID]
				if c == nil {
					c = &KnownIssueCount{ID: l.Issue.ID, Invariant: l.Issue.Invariant, Link: l.Issue.Link, Note: l.Issue.Note}
					issues[l.Issue.ID] = c
				}
				c.Count++
			}
		}
		for _, v := range r.Verdict.Fail {
			if c := inv(v.Invariant); !seenF[v.Invariant] {
				seenF[v.Invariant] = true
				judged[c.ID] = true
				c.Fail++
				if c.FirstFail == nil {
					seed := r.Seed
					c.FirstFail = &seed
				}
			}
		}
		for id := range judged {
			inv(id).Judged++
		}
		for _, k := range dedupe(r.Coverage) {
			keys[k]++
		}
		runWall += r.Wall
		virtual += r.Virtual
		if r.Failed() {
			sum.Failures = append(sum.Failures, Failure{
				Seed: r.Seed, Scenario: r.Scenario.Name, Outcome: r.Outcome,
				Invariants: r.FailedIDs(), Message: r.Message(), Repro: r.Repro, Dir: dirs[i],
			})
		}
	}
	for _, o := range allOutcomes {
		sum.Outcomes = append(sum.Outcomes, OutcomeCount{o, outcomes[o]})
		delete(outcomes, o)
	}
	var extra []OutcomeCount
	for o, n := range outcomes {
		extra = append(extra, OutcomeCount{o, n})
	}
	slices.SortFunc(extra, func(a, b OutcomeCount) int { return cmp.Compare(a.Outcome, b.Outcome) })
	sum.Outcomes = append(sum.Outcomes, extra...)

	for _, c := range invs {
		sum.Invariants = append(sum.Invariants, *c)
	}
	slices.SortFunc(sum.Invariants, func(a, b InvariantCount) int { return cmp.Compare(a.ID, b.ID) })
	for _, c := range issues {
		sum.KnownIssues = append(sum.KnownIssues, *c)
	}
	slices.SortFunc(sum.KnownIssues, func(a, b KnownIssueCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.ID, b.ID))
	})
	for k, n := range keys {
		sum.Coverage.Keys = append(sum.Coverage.Keys, KeyCount{k, n})
	}
	slices.SortFunc(sum.Coverage.Keys, func(a, b KeyCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key, b.Key))
	})
	sum.Coverage.Distinct = len(sum.Coverage.Keys)
	if len(s.Reachable) > 0 {
		var hit []string
		for k := range keys {
			hit = append(hit, k)
		}
		m := coverage.Measure(s.Reachable, hit)
		sum.Coverage.Reachable, sum.Coverage.Hit, sum.Coverage.Missing, sum.Coverage.Beyond = m.Total, m.Hit, m.Missing, len(m.New)
		sum.Coverage.Percent = math.Round(m.Percent()*10) / 10
	}
	slices.SortStableFunc(sum.Failures, func(a, b Failure) int { return cmp.Compare(a.Seed, b.Seed) })

	sum.Time = timeSplit(s)
	sum.Rates.RunWallSeconds = runWall.Seconds()
	sum.Rates.VirtualSeconds = virtual.Seconds()
	if s.Wall > 0 {
		sum.Rates.ScenariosPerSecond = float64(sum.Total) / s.Wall.Seconds()
	}
	if sum.Total > 0 {
		sum.Rates.MeanRunMillis = runWall.Seconds() * 1000 / float64(sum.Total)
	}
	if runWall > 0 {
		sum.Rates.VirtualPerWall = virtual.Seconds() / runWall.Seconds()
	}
	if s.Profile == string(invariants.W3C) {
		sum.Conformance = ConformanceOf(s)
	}
	if s.Teardown != nil {
		sum.Teardown = append(s.Teardown.Modules[:len(s.Teardown.Modules):len(s.Teardown.Modules)], s.Teardown.Total())
	}
	return sum
}

// dedupe returns the distinct strings of ss in order of first appearance.
func dedupe(ss []string) []string {
	if len(ss) < 2 {
		return ss
	}
	seen := make(map[string]bool, len(ss))
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
