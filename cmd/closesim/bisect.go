package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/closesim/closesim/internal/protocol"
)

// bisectStep is one build a bisect judged.
type bisectStep struct {
	// Build names what was built: a release, perhaps with a moved module.
	Build string `json:"build"`
	// Version is the version the step bisects over (the release, or the
	// moved module's version).
	Version string `json:"version"`
	// Verdict is the scenario's verdict on the build (cellVerdict's key).
	Verdict string `json:"verdict,omitempty"`
	// Detail is the verdict's wedge headline or failure message.
	Detail string `json:"detail,omitempty"`
	// Refused says why the build failed ("" if it ran).
	Refused string `json:"refused,omitempty"`
}

// bisectRange is the result of one binary search: Last is the newest
// version with the old end's verdict, First the oldest after it with a
// different one; Skipped are the versions between them that did not build.
type bisectRange struct {
	Last    string   `json:"last_same"`
	First   string   `json:"first_different"`
	Skipped []string `json:"skipped,omitempty"`
}

// bisectSearch finds where, along vs (oldest first), the verdict first
// differs from vs[0]'s; vs[0]'s and vs[len(vs)-1]'s verdicts are given and
// differ. A version whose build fails is skipped (as git bisect skip does)
// and listed if it ends up between the two. It asks verdict about
// O(log len(vs)) versions.
func bisectSearch(vs []string, oldVerdict string, verdict func(v string) (string, error)) bisectRange {
	cands := slices.Clone(vs)
	lo, hi := 0, len(cands)-1
	var skipped []string
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		v, err := verdict(cands[mid])
		if err != nil {
			skipped = append(skipped, cands[mid])
			cands = slices.Delete(cands, mid, mid+1)
			hi--
			continue
		}
		if v == oldVerdict {
			lo = mid
		} else {
			hi = mid
		}
	}
	r := bisectRange{Last: cands[lo], First: cands[hi]}
	for _, s := range skipped {
		if compareSemver(s, r.Last) > 0 && compareSemver(s, r.First) < 0 {
			r.Skipped = append(r.Skipped, s)
		}
	}
	return r
}

// bisectReport is closesim bisect's result, as bisect.json holds it.
type bisectReport struct {
	Scenario string `json:"scenario"`
	// Old and New are the two ends, ordered by version, with their verdicts.
	Old        string `json:"old"`
	New        string `json:"new"`
	OldVerdict string `json:"old_verdict"`
	NewVerdict string `json:"new_verdict"`
	// Release is the webrtc bisect's answer.
	Release bisectRange `json:"release"`
	// ReleaseNotes links the first differing release's notes.
	ReleaseNotes string `json:"release_notes"`
	// Moved lists the pion modules whose version the first differing
	// release changed, as "path old -> new".
	Moved []string `json:"moved,omitempty"`
	// Module names the one moved module that alone flips the verdict (""
	// when none does: the change is webrtc's own, or needs several).
	Module string `json:"module,omitempty"`
	// ModuleRange is the bisect over Module's versions, when Module is set.
	ModuleRange *bisectRange `json:"module_range,omitempty"`
	// ModuleNotes links the first differing module version's notes.
	ModuleNotes string `json:"module_notes,omitempty"`
	// Conclusion says in one sentence what the bisect found.
	Conclusion string `json:"conclusion"`
	// Steps are every build judged, in order.
	Steps []bisectStep `json:"steps"`
}

func cmdBisect(args []string) error {
	fs := newFlags("bisect", "bisect -good vX -bad vY [-pkg PKG -test TEST] (FILE | -seed N) [-repeat K] [-out DIR]\n\nFinds the first pion/webrtc release between -good and -bad on which the scenario's verdict\ndiffers from the older end's (a regression, or the release that fixed a finding), with the link\nto its release notes; then, for each pion module that release moved, whether moving that module\nalone flips the verdict, and if one does, the first version of it that does.")
	good := fs.String("good", "", "one end of the range: a pion/webrtc release (required)")
	bad := fs.String("bad", "", "the other end (required); the ends may be given in either order")
	out := fs.String("out", "closesim-bisect", "report directory: bisect.json and one sweep report per build")
	rf := addReleaseFlags(fs, 0)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *good == "" || *bad == "" {
		return usagef("-good and -bad are required, e.g. -good v4.2.10 -bad v4.2.26")
	}
	for _, v := range []string{*good, *bad} {
		if _, ok := parseSemver(v); !ok {
			return usagef("%q is not a release version (want vMAJOR.MINOR.PATCH, e.g. v4.2.10)", v)
		}
	}
	if compareSemver(*good, *bad) == 0 {
		return usagef("-good and -bad are the same release %s", *good)
	}
	seedSet := false
	fs.Visit(func(f *flag.Flag) { seedSet = seedSet || f.Name == "seed" })
	switch {
	case *rf.n > 1:
		return usagef("bisect runs one scenario: give one FILE or -seed N, not -n %d", *rf.n)
	case seedSet && fs.NArg() > 0:
		return usagef("give one FILE or -seed N, not both")
	case !seedSet && fs.NArg() != 1:
		return usagef("give one scenario FILE or -seed N")
	case seedSet:
		*rf.n = 1
	}
	s, err := rf.setup(*out, fs.Args())
	if err != nil {
		return err
	}
	if len(s.scen) != 1 {
		return usagef("bisect runs one scenario: %s holds %d", fs.Arg(0), len(s.scen))
	}
	old, nw := *good, *bad
	if compareSemver(old, nw) > 0 {
		old, nw = nw, old
	}
	rep, err := s.bisect(old, nw)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.out, "bisect.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	rep.print(os.Stdout)
	fmt.Printf("report: %s (bisect.json, a sweep report per build)\n", *out)
	return nil
}

// judge builds spec, runs the setup's one scenario on it and records the
// step; a refused build is an error.
func (s *releaseSetup) judge(rep *bisectReport, spec buildSpec, version string) (string, error) {
	rr := s.run(spec)
	st := bisectStep{Build: rr.Release, Version: version, Refused: rr.Refused}
	if rr.Refused == "" {
		cl := rr.Cells[s.scen[0].name]
		st.Verdict, st.Detail = cl.Verdict, cl.Detail
	}
	rep.Steps = append(rep.Steps, st)
	if !*s.rf.quiet {
		fmt.Fprintf(os.Stderr, "bisect: %s: %s\n", st.Build, st.summary())
	}
	if st.Refused != "" {
		return "", fmt.Errorf("%s", st.Refused)
	}
	return st.Verdict, nil
}

func (st bisectStep) summary() string {
	if st.Refused != "" {
		return "refused: " + st.Refused
	}
	return st.Verdict
}

// bisect runs the two-level bisect over the webrtc releases from old to
// nw.
func (s *releaseSetup) bisect(old, nw string) (bisectReport, error) {
	rep := bisectReport{Scenario: s.scen[0].name, Old: old, New: nw}
	vs, err := s.between(protocol.PionModule, old, nw)
	if err != nil {
		return rep, err
	}
	if rep.OldVerdict, err = s.judge(&rep, buildSpec{webrtc: old}, old); err != nil {
		return rep, usagef("cannot build the end %s: %v", old, err)
	}
	if rep.NewVerdict, err = s.judge(&rep, buildSpec{webrtc: nw}, nw); err != nil {
		return rep, usagef("cannot build the end %s: %v", nw, err)
	}
	if rep.OldVerdict == rep.NewVerdict {
		return rep, usagef("%s gives the same verdict (%s) on %s and %s: nothing to bisect", rep.Scenario, rep.OldVerdict, old, nw)
	}
	rep.Release = bisectSearch(vs, rep.OldVerdict, func(v string) (string, error) {
		return s.judge(&rep, buildSpec{webrtc: v}, v)
	})
	rep.ReleaseNotes = releaseNotes(protocol.PionModule, rep.Release.First)
	firstVerdict := rep.verdictOf(rep.Release.First)
	rep.Conclusion = fmt.Sprintf("the verdict changes from %q on %s to %q on %s", rep.OldVerdict, rep.Release.Last, firstVerdict, rep.Release.First)
	if len(rep.Release.Skipped) > 0 {
		rep.Conclusion += fmt.Sprintf(" (the releases between them did not build: %s)", strings.Join(rep.Release.Skipped, ", "))
		return rep, nil
	}
	// Second level: which pion module that release moved flips the verdict.
	lastReqs, err := s.requirements(buildSpec{webrtc: rep.Release.Last})
	if err != nil {
		return rep, err
	}
	firstReqs, err := s.requirements(buildSpec{webrtc: rep.Release.First})
	if err != nil {
		return rep, err
	}
	lastV := map[string]string{}
	for _, r := range lastReqs {
		lastV[r.path] = r.version
	}
	var flips []requirement
	for _, r := range firstReqs {
		prev, ok := lastV[r.path]
		if r.path == protocol.PionModule || prev == r.version {
			continue
		}
		if !ok {
			rep.Moved = append(rep.Moved, fmt.Sprintf("%s (new: %s)", r.path, r.version))
			continue // a new major: it cannot be moved alone
		}
		rep.Moved = append(rep.Moved, fmt.Sprintf("%s %s -> %s", r.path, prev, r.version))
		v, err := s.judge(&rep, buildSpec{webrtc: rep.Release.Last, with: map[string]string{r.path: r.version}}, r.version)
		if err == nil && v == firstVerdict {
			flips = append(flips, requirement{r.path, prev + " " + r.version})
		}
	}
	switch {
	case len(rep.Moved) == 0:
		rep.Conclusion += "; the release moved no other pion module: the change is webrtc's own"
	case len(flips) == 1:
		path := flips[0].path
		from, to, _ := strings.Cut(flips[0].version, " ")
		mvs, err := s.between(path, from, to)
		if err != nil {
			return rep, err
		}
		mr := bisectSearch(mvs, rep.OldVerdict, func(v string) (string, error) {
			return s.judge(&rep, buildSpec{webrtc: rep.Release.Last, with: map[string]string{path: v}}, v)
		})
		rep.Module, rep.ModuleRange, rep.ModuleNotes = path, &mr, releaseNotes(path, mr.First)
		rep.Conclusion += fmt.Sprintf("; of the pion modules it moved, %s alone flips it: first at %s %s (after %s)", path, path, mr.First, mr.Last)
	case len(flips) > 1:
		var names []string
		for _, f := range flips {
			names = append(names, f.path)
		}
		rep.Conclusion += fmt.Sprintf("; each of %s alone flips it", strings.Join(names, ", "))
	default:
		rep.Conclusion += fmt.Sprintf("; none of the pion modules it moved (%s) flips it alone: the change is webrtc's own, or needs several of them", strings.Join(rep.Moved, "; "))
	}
	return rep, nil
}

// between lists path's versions from old to nw, both included, oldest
// first.
func (s *releaseSetup) between(path, old, nw string) ([]string, error) {
	all, err := s.versions(path)
	if err != nil {
		return nil, fmt.Errorf("list the versions of %s: %w", path, err)
	}
	vs := []string{old}
	for _, v := range all {
		if compareSemver(v, old) > 0 && compareSemver(v, nw) < 0 {
			vs = append(vs, v)
		}
	}
	return append(vs, nw), nil
}

// verdictOf is the verdict a step recorded for release v.
func (rep bisectReport) verdictOf(v string) string {
	for _, st := range rep.Steps {
		if st.Build == v {
			return st.Verdict
		}
	}
	return ""
}

// releaseNotes links a pion module version's release notes on GitHub.
func releaseNotes(path, version string) string {
	repo := modBase(path)
	return "https://" + repo + "/releases/tag/" + version
}

func (r bisectReport) print(w io.Writer) {
	fmt.Fprintf(w, "bisect %s: %s (%s) .. %s (%s)\n", r.Scenario, r.Old, r.OldVerdict, r.New, r.NewVerdict)
	for _, st := range r.Steps {
		fmt.Fprintf(w, "  %-60s %s\n", st.Build, st.summary())
	}
	fmt.Fprintf(w, "first release whose verdict differs: %s\n  release notes: %s\n", r.Release.First, r.ReleaseNotes)
	if r.Module != "" {
		fmt.Fprintf(w, "first %s version that flips it on %s: %s\n  release notes: %s\n", r.Module, r.Release.Last, r.ModuleRange.First, r.ModuleNotes)
	}
	fmt.Fprintf(w, "conclusion: %s\n", r.Conclusion)
}
