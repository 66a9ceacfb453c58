package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/closesim/closesim"
	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/report"
)

// minExpected is how many runs a known issue must be expected to cover in
// a sweep before its absence is worth a warning: with hits Poisson
// distributed around 3, a sweep meets none in 5% of cases.
const minExpected = 3.0

// unseenWarnings returns a line for each issue the reference sweep met
// often enough (KnownIssue.Seen) that sw should have covered it at least
// minExpected times, but that sw covered never: a sign that the Pion under
// test fixed it.
func unseenWarnings(sw report.Sweep, issues []invariants.KnownIssue) []string {
	covered := map[string]bool{}
	for _, r := range sw.Results {
		for _, l := range r.Verdict.Known {
			covered[l.Issue.ID] = true
		}
	}
	var out []string
	for _, k := range issues {
		if k.Seen == nil || covered[k.ID] {
			continue
		}
		expected := float64(len(sw.Results)) * float64(k.Seen.Hits) / float64(k.Seen.Runs)
		if expected < minExpected {
			continue
		}
		out = append(out, fmt.Sprintf("%s not seen in %d runs, though the reference sweep met it in %d of %d (%.0f expected here): fixed upstream? (closesim matrix compares releases)",
			k.ID, len(sw.Results), k.Seen.Hits, k.Seen.Runs, math.Floor(expected)))
	}
	return out
}

// sweepIssues are the known issues of -known (auto: those closesim ships)
// that apply to the release sw ran against.
func sweepIssues(sw report.Sweep, known string) []invariants.KnownIssue {
	release := strings.TrimPrefix(sw.PionVersion, "pion/webrtc ")
	release, _, _ = strings.Cut(release, " ")
	opt := invariants.ForRelease(release)
	if known != "auto" {
		issues, err := invariants.LoadKnownFiles(strings.Split(known, ","), opt)
		if err != nil {
			return nil // validated before the sweep
		}
		return issues
	}
	issues, err := invariants.ParseKnown(closesim.KnownIssues(), opt)
	if err != nil {
		return nil // TestShippedKnownIssuesParse keeps the file valid
	}
	return issues
}
