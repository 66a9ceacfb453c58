package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/invariants"
)

// browserSides are the two implementations of a browser run, by their
// peer in its Observation (facts.BrowserRun.Observation).
var browserSides = []struct{ peer, name string }{{facts.BrowserPionPeer, "Pion"}, {facts.BrowserPagePeer, "Chromium"}}

// judgedPeer is the peer an invariant judges in a browser run: the
// survivor for the remote-side rules (remote.*), the closer for the rest
// (its own states, callbacks, close time and probes).
func judgedPeer(id string, r facts.BrowserRun) string {
	closer := facts.BrowserPionPeer
	if r.Closer == "browser" {
		closer = facts.BrowserPagePeer
	}
	if strings.HasPrefix(id, "remote.") {
		if closer == facts.BrowserPionPeer {
			return facts.BrowserPagePeer
		}
		return facts.BrowserPionPeer
	}
	return closer
}

// judgeBrowser judges every finished run of s with closesim's invariants
// under the w3c profile and splits each verdict by implementation: the
// result for Pion holds what the invariants found about peer A, the one
// for Chromium what they found about peer B. A rule passes for the peer it
// judged (judgedPeer) and is n/a for the other. Known issues (s.Known)
// label Pion's violations only: a Chromium violation a Pion issue's
// signature matches is Chromium's own, never known.
func judgeBrowser(s BrowserSweep) map[string][]Result {
	out := map[string][]Result{}
	for _, r := range s.Runs {
		if r.Err != "" {
			continue
		}
		obs := r.Observation()
		v := invariants.Judge(&obs, invariants.W3C, s.Known)
		for _, side := range browserSides {
			sv := invariants.Verdict{Profile: v.Profile}
			for _, id := range v.Pass {
				if judgedPeer(id, r) == side.peer {
					sv.Pass = append(sv.Pass, id)
				} else {
					sv.NA = append(sv.NA, id)
				}
			}
			sv.NA = append(sv.NA, v.NA...)
			of := func(viol invariants.Violation) bool {
				return viol.Peer == side.peer || viol.Peer == "" && judgedPeer(viol.Invariant, r) == side.peer
			}
			for _, l := range v.Known {
				switch {
				case !of(l.Violation):
				case side.peer == facts.BrowserPionPeer:
					sv.Known = append(sv.Known, l)
				default:
					sv.Fail = append(sv.Fail, l.Violation)
				}
			}
			for _, viol := range v.Fail {
				if of(viol) {
					sv.Fail = append(sv.Fail, viol)
				}
			}
			sv.Subjects = v.Subjects
			out[side.name] = append(out[side.name], Result{Seed: r.Seed, Verdict: sv, Outcome: string(obs.Outcome)})
		}
	}
	return out
}

// invariantCount is one invariant's tally for one implementation.
type invariantCount struct {
	pass, na, known, fail int
	knownIDs              []string
	firstFail             *Result
	firstMessage          string
}

func (c invariantCount) String() string {
	switch {
	case c.fail > 0:
		return fmt.Sprintf("**fail %d**/%d", c.fail, c.pass+c.known+c.fail)
	case c.known > 0:
		return fmt.Sprintf("known %d/%d (%s)", c.known, c.pass+c.known+c.fail, strings.Join(c.knownIDs, ", "))
	case c.pass > 0:
		return fmt.Sprintf("pass %d", c.pass)
	}
	return "n/a"
}

// countInvariant tallies invariant id over results.
func countInvariant(id string, results []Result) invariantCount {
	var c invariantCount
	for i := range results {
		v := results[i].Verdict
		fail := slices.IndexFunc(v.Fail, func(x invariants.Violation) bool { return x.Invariant == id })
		known := slices.IndexFunc(v.Known, func(l invariants.Labeled) bool { return l.Violation.Invariant == id })
		switch {
		case fail >= 0:
			c.fail++
			if c.firstFail == nil {
				c.firstFail, c.firstMessage = &results[i], v.Fail[fail].Message
			}
		case known >= 0:
			c.known++
			for _, l := range v.Known {
				if l.Violation.Invariant == id && !slices.Contains(c.knownIDs, l.Issue.ID) {
					c.knownIDs = append(c.knownIDs, l.Issue.ID)
				}
			}
		case slices.Contains(v.Pass, id):
			c.pass++
		default:
			c.na++
		}
	}
	return c
}

// writeBrowserJudges writes the sections of browser.md that closesim's
// own judges fill: every w3c-profile invariant on each implementation, the
// W3C conformance table on each, and the invariants where the two differ,
// triaged.
func writeBrowserJudges(w io.Writer, s BrowserSweep) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	by := judgeBrowser(s)
	pion, chromium := by["Pion"], by["Chromium"]
	p("\n## closesim's invariants on both sides (profile w3c)\n\n")
	p("Each run becomes an Observation of the same shape as a simulated run's (Pion is peer A, Chromium peer B) and\n")
	p("the w3c profile's invariants judge it: the closer by its own close (states at return and at the end, callbacks\n")
	p("after the call, close time, methods after close), the other side by the remote-side rules. What a real-time run\n")
	p("against a browser cannot record is n/a, never pass: goroutine, socket, timer and TURN leaks, panic and wedge\n")
	p("detection, message delivery, and the closer's side of a closed tab. A pass counts the runs that judged the rule on\n")
	p("that implementation; known issues label Pion's violations only (known-issues.json, deviations-w3c.json).\n\n")
	p("| invariant | Pion | Chromium | first Pion failure | first Chromium failure |\n|---|---|---|---|---|\n")
	var diffs []string
	for _, inv := range invariants.Of(invariants.W3C) {
		pc, cc := countInvariant(inv.ID, pion), countInvariant(inv.ID, chromium)
		if pc.pass+pc.known+pc.fail+cc.pass+cc.known+cc.fail == 0 {
			continue
		}
		first := func(c invariantCount) string {
			if c.firstFail == nil {
				return ""
			}
			return fmt.Sprintf("seed %d: %s", c.firstFail.Seed, mdEscape(c.firstMessage))
		}
		p("| `%s` | %s | %s | %s | %s |\n", inv.ID, pc, cc, first(pc), first(cc))
		var parts []string
		if pc.fail > 0 {
			parts = append(parts, fmt.Sprintf("Pion fails %d runs, no known issue matches (**new**; first: %s)", pc.fail, first(pc)))
		}
		if pc.known > 0 && cc.fail+cc.known == 0 && cc.pass > 0 {
			parts = append(parts, fmt.Sprintf("Pion fails %d runs (known Pion deviation %s, docs/findings.md), Chromium passes %d", pc.known, strings.Join(pc.knownIDs, ", "), cc.pass))
		}
		switch {
		case cc.fail > 0 && strings.HasPrefix(inv.ID, "remote."):
			// The survivor's end state: Pion's close, or Chromium's
			// handling of it, is to blame; the run's trace says which.
			parts = append(parts, fmt.Sprintf("Chromium, surviving Pion's close, fails %d runs (remote side, not attributed: Pion's close or Chromium's handling of it; first: %s)", cc.fail, first(cc)))
		case cc.fail > 0:
			parts = append(parts, fmt.Sprintf("Chromium fails %d runs (browser deviation from the spec as the w3c profile reads it; first: %s)", cc.fail, first(cc)))
		}
		if len(parts) > 0 {
			diffs = append(diffs, fmt.Sprintf("- `%s`: %s", inv.ID, strings.Join(parts, "; ")))
		}
	}
	if len(diffs) > 0 {
		p("\nWhere the judges find a difference or a failure:\n\n%s\n", strings.Join(diffs, "\n"))
	}
	p("\n## W3C conformance table on each implementation\n\n")
	p("The rows of docs/conformance.md, each counted over the runs the judges above split by implementation: a run\n")
	p("counts for a row by the worst of the row's invariants on that implementation (fail, known, pass, else n/a).\n\n")
	p("| row | step | Pion | Chromium |\n|---|---|---|---|\n")
	pr, cr := ConformanceOf(Sweep{Results: pion}), ConformanceOf(Sweep{Results: chromium})
	for i, row := range pr {
		if len(row.Invariants) == 0 {
			continue
		}
		cell := func(c ConformanceResult) string {
			if c.Pass+c.Known+c.Fail == 0 {
				return "n/a"
			}
			return fmt.Sprintf("%s (%d pass, %d known, %d fail)", c.Label(), c.Pass, c.Known, c.Fail)
		}
		p("| `%s` | %s | %s | %s |\n", row.ID, row.Step, cell(row), cell(cr[i]))
	}
}

// mdEscape keeps a message inside one Markdown table cell.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
