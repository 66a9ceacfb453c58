package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/scenarios"
)

// OutcomeCrash is the outcome of a scenario whose worker process died while
// running it (the coordinator writes it; sim never does).
const OutcomeCrash = "crash"

// Outcomes lists the outcomes summaries always count, best first: every
// facts.Outcome, then OutcomeCrash. Other outcome strings are counted too,
// after these.
var allOutcomes = []string{
	string(facts.OutcomeOK), string(facts.OutcomeLeak), string(facts.OutcomeDeadlock),
	string(facts.OutcomeWedge), string(facts.OutcomePanic), string(facts.OutcomeError), OutcomeCrash,
}

// Result is one scenario of a sweep, as a worker reports it (one JSON line
// each in results.jsonl).
type Result struct {
	// Seed identifies the scenario within a sweep; Merge dedupes by it.
	Seed uint64 `json:"seed"`
	// File is the scenario file the run replayed (closesim matrix and
	// bisect run files), empty for a generated scenario.
	File string `json:"file,omitempty"`
	// Scenario is the scenario that ran.
	Scenario scenarios.Scenario `json:"scenario"`
	// Outcome is a facts.Outcome, or OutcomeCrash when the worker process
	// died on the scenario.
	Outcome string `json:"outcome"`
	// Verdict is the judgement of the run: passed invariants, known and
	// failed violations.
	Verdict invariants.Verdict `json:"verdict"`
	// TraceHash is facts.OrderHash of the run's events.
	TraceHash string `json:"trace_hash"`
	// Events is the trace, kept for failures (and optionally all runs).
	Events []facts.Event `json:"events,omitempty"`
	// Closes are the state tuples at each close.
	Closes []facts.CloseSnapshot `json:"closes,omitempty"`
	// Final are the peers' states after the settle period.
	Final []facts.PeerState `json:"final,omitempty"`
	// Diagnosis is the wedge diagnosis, the panic, or the crash's stacks.
	Diagnosis string `json:"diagnosis,omitempty"`
	// Headline is the wedge diagnosis in one line (facts.Wedge.Headline),
	// empty for other outcomes.
	Headline string `json:"headline,omitempty"`
	// Shrunk is the minimal scenario that still fails, when one was sought.
	Shrunk *scenarios.Scenario `json:"shrunk,omitempty"`
	// Repro is the one-line command that replays the scenario.
	Repro string `json:"repro"`
	// Wall is the real time the run took.
	Wall time.Duration `json:"wall"`
	// ShrinkWall is the real time spent shrinking this result (Shrunk), 0
	// if it was not shrunk.
	ShrinkWall time.Duration `json:"shrink_wall,omitempty"`
	// WedgeBy is what declared a wedge (facts.WedgeDetector: "freeze",
	// "deadline" or "watchdog"), empty for other outcomes.
	WedgeBy string `json:"wedge_by,omitempty"`
	// AfterWedge reports that the run came right after a wedged run of
	// the same worker slot: in a fresh worker process (closesim run), or in
	// the same process (an in-process sweep keeps the frozen bubble).
	AfterWedge bool `json:"after_wedge,omitempty"`
	// Virtual is the virtual time the run took.
	Virtual time.Duration `json:"virtual"`
	// Coverage lists the close-point keys this run hit (opaque strings).
	Coverage []string `json:"coverage,omitempty"`
}

// Status is the verdict of a whole run: pass, known or fail.
type Status string

// Statuses.
const (
	// StatusPass: outcome ok and no violation at all.
	StatusPass Status = "pass"
	// StatusKnown: no failed violation, at least one known one, and an
	// outcome other than "error" (a non-ok outcome counts as known only
	// when a known issue covers the run).
	StatusKnown Status = "known"
	// StatusFail: a failed violation, an "error" outcome (the harness could
	// not build the world), or any other non-ok outcome that no known issue
	// covers (e.g. a crash the coordinator did not judge).
	StatusFail Status = "fail"
)

// Status classifies the run (see StatusPass, StatusKnown and StatusFail).
func (r Result) Status() Status {
	switch {
	case len(r.Verdict.Fail) > 0, r.Outcome == string(facts.OutcomeError):
		return StatusFail
	case len(r.Verdict.Known) > 0:
		return StatusKnown
	case r.Outcome != string(facts.OutcomeOK):
		return StatusFail
	}
	return StatusPass
}

// Failed reports whether the run failed: Status() == StatusFail. Write
// gives every failed run a folder under failures/.
func (r Result) Failed() bool { return r.Status() == StatusFail }

// FailedIDs returns the distinct invariant IDs of the failed violations in
// order of first appearance; a run that failed by its outcome alone gets
// "outcome.<outcome>" (e.g. "outcome.crash"). It is empty for runs that did
// not fail.
func (r Result) FailedIDs() []string {
	if !r.Failed() {
		return nil
	}
	var ids []string
	for _, v := range r.Verdict.Fail {
		if !slices.Contains(ids, v.Invariant) {
			ids = append(ids, v.Invariant)
		}
	}
	if len(ids) == 0 {
		ids = append(ids, "outcome."+r.Outcome)
	}
	return ids
}

// Message says in one line why the run failed (the first failed violation,
// or the outcome and the first line of the diagnosis), or is empty for a
// run that did not fail.
func (r Result) Message() string {
	if !r.Failed() {
		return ""
	}
	if len(r.Verdict.Fail) > 0 {
		m := r.Verdict.Fail[0].String()
		if n := len(r.Verdict.Fail) - 1; n > 0 {
			m += fmt.Sprintf(" (and %d more)", n)
		}
		return m
	}
	m := "outcome " + r.Outcome
	if h := r.headline(); h != "" {
		m += ": " + h
	}
	return m
}

// headline is the wedge's Headline, or the first non-empty line of the
// diagnosis (a panic, a crash's last output).
func (r Result) headline() string {
	if r.Headline != "" {
		return r.Headline
	}
	for _, line := range strings.Split(r.Diagnosis, "\n") {
		if l := strings.TrimSpace(line); l != "" {
			return l
		}
	}
	return ""
}

// WriteResults writes rs as JSON lines: one Result object per line.
func WriteResults(w io.Writer, rs []Result) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := range rs {
		if err := enc.Encode(&rs[i]); err != nil {
			return fmt.Errorf("result %d (seed %d): %w", i, rs[i].Seed, err)
		}
	}
	return bw.Flush()
}

// ReadResults reads JSON lines written by WriteResults. Blank lines are
// skipped. A line that is not one JSON Result object, or whose outcome is
// empty, is an error naming the line number (1-based).
func ReadResults(r io.Reader) ([]Result, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var out []Result
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return out, fmt.Errorf("line %d: %w", n, err)
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			res, derr := decodeResult(t)
			if derr != nil {
				return out, fmt.Errorf("line %d: %w", n, derr)
			}
			out = append(out, res)
		}
		if err != nil { // io.EOF
			return out, nil
		}
	}
}

func decodeResult(line []byte) (Result, error) {
	var res Result
	if line[0] != '{' {
		return res, fmt.Errorf("want a JSON object, got %q", clip(string(line), 40))
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&res); err != nil {
		return res, err
	}
	if dec.More() {
		return res, errors.New("trailing data after the JSON object")
	}
	if res.Outcome == "" {
		return res, errors.New("outcome: must not be empty")
	}
	return res, nil
}

// clip shortens s to at most n runes, marking a cut with "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
