package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/closesim/closesim/invariants"
)

// ConformanceFile is the name of the conformance table a w3c sweep writes
// beside summary.json.
const ConformanceFile = "conformance.md"

// ConformanceResult is one row of the W3C conformance table with how the
// sweep's runs fared on it. A run's status for the row is the worst over
// the row's invariants: fail (a failed violation of one), known (a known
// violation), pass (one held), else n/a (none had anything to judge).
type ConformanceResult struct {
	invariants.ConformanceRow
	Pass  int `json:"pass"`
	NA    int `json:"na"`
	Known int `json:"known"`
	Fail  int `json:"fail"`
	// FirstKnown and FirstFail are the seeds of the first results with a
	// known or a failed violation of the row's invariants.
	FirstKnown *uint64 `json:"first_known,omitempty"`
	FirstFail  *uint64 `json:"first_fail,omitempty"`
	// KnownIDs are the known issues (deviations, findings) that covered
	// the row's known violations.
	KnownIDs []string `json:"known_ids,omitempty"`
}

// Label says in a few words what the row's verdict is: "fail", "known:
// IDs", "pass", "n/a (no run judged it)" or "not judged by closesim".
func (c ConformanceResult) Label() string {
	switch {
	case len(c.Invariants) == 0:
		return "not judged by closesim"
	case c.Fail > 0:
		return "fail"
	case c.Known > 0:
		return "known: " + strings.Join(c.KnownIDs, ", ")
	case c.Pass > 0:
		return "pass"
	}
	return "n/a (no run judged it)"
}

// ConformanceOf judges every row of the conformance table over the
// results of s.
func ConformanceOf(s Sweep) []ConformanceResult {
	table := invariants.ConformanceTable()
	out := make([]ConformanceResult, len(table.Rows))
	for i, row := range table.Rows {
		c := ConformanceResult{ConformanceRow: row}
		if len(row.Invariants) > 0 {
			for k := range s.Results {
				c.add(&s.Results[k])
			}
		}
		out[i] = c
	}
	return out
}

// add counts result r for the row: fail or known by the violations the row
// concerns (ConformanceRow.Concerns), else pass when one of its invariants
// judged what the row is about in the run (held, or was violated only
// about other objects or calls; ConformanceRow.Covers), else n/a.
func (c *ConformanceResult) add(r *Result) {
	in := func(id string) bool {
		subjects, ok := r.Verdict.Subjects[id]
		return slices.Contains(c.Invariants, id) && c.Covers(subjects, ok)
	}
	seed := r.Seed
	switch {
	case slices.ContainsFunc(r.Verdict.Fail, c.Concerns):
		c.Fail++
		if c.FirstFail == nil {
			c.FirstFail = &seed
		}
	case slices.ContainsFunc(r.Verdict.Known, func(l invariants.Labeled) bool { return c.Concerns(l.Violation) }):
		c.Known++
		if c.FirstKnown == nil {
			c.FirstKnown = &seed
		}
		for _, l := range r.Verdict.Known {
			if c.Concerns(l.Violation) && !slices.Contains(c.KnownIDs, l.Issue.ID) {
				c.KnownIDs = append(c.KnownIDs, l.Issue.ID)
			}
		}
	case slices.ContainsFunc(r.Verdict.Pass, in),
		slices.ContainsFunc(r.Verdict.Fail, func(v invariants.Violation) bool { return in(v.Invariant) }),
		slices.ContainsFunc(r.Verdict.Known, func(l invariants.Labeled) bool { return in(l.Violation.Invariant) }):
		c.Pass++
	default:
		c.NA++
	}
}

// WriteConformance writes the conformance table of a sweep as Markdown: one
// row per step of the W3C "close the connection" algorithm, of the
// algorithms it calls, per method's [[IsClosed]] check and per remote-side
// expectation, each with its quote, spec anchor, WPT tests, invariants,
// counts and label, and the first seed of each non-pass.
func WriteConformance(w io.Writer, s Sweep) error {
	table := invariants.ConformanceTable()
	var b strings.Builder
	fmt.Fprintf(&b, "# W3C conformance of Pion's close\n\n")
	fmt.Fprintf(&b, "Sweep %s: %d runs, profile %s, %s. Spec: %s. WPT: %s.\n\n",
		mdCode(s.Name), len(s.Results), s.Profile, s.PionVersion, table.Spec, table.WPT)
	b.WriteString("A run counts for a row by the worst of the row's invariants in that run: fail, known, pass, else n/a (nothing to judge). Known labels name the deviation or finding (deviations-w3c.json, known-issues.json, docs/findings.md).\n\n")
	b.WriteString("| row | step | spec | WPT | invariants | pass | n/a | known | fail | label | first non-pass |\n|---|---|---|---|---|---:|---:|---:|---:|---|---|\n")
	for _, c := range ConformanceOf(s) {
		wpt := "none found"
		if len(c.WPT) > 0 {
			parts := make([]string, len(c.WPT))
			for i, p := range c.WPT {
				parts[i] = mdCode(strings.TrimPrefix(p, "webrtc/"))
			}
			wpt = strings.Join(parts, "<br>")
		}
		invs := "—"
		if len(c.Invariants) > 0 {
			parts := make([]string, len(c.Invariants))
			for i, id := range c.Invariants {
				parts[i] = mdCode(id)
			}
			invs = strings.Join(parts, "<br>")
		}
		var first []string
		if c.FirstFail != nil {
			first = append(first, fmt.Sprintf("fail: seed %d", *c.FirstFail))
		}
		if c.FirstKnown != nil {
			first = append(first, fmt.Sprintf("known: seed %d", *c.FirstKnown))
		}
		fmt.Fprintf(&b, "| %s | %s | [%s](%s): “%s” | %s | %s | %d | %d | %d | %d | %s | %s |\n",
			mdCode(c.ID), mdText(c.Step), mdText(c.Title), c.Anchor, mdText(c.Quote), wpt, invs,
			c.Pass, c.NA, c.Known, c.Fail, mdText(c.Label()), strings.Join(first, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
