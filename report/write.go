package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/closesim/closesim/coverage"
	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/invariants"

	"github.com/closesim/closesim/scenarios"
)

// Sweep is a whole sweep: its header and one Result per scenario.
type Sweep struct {
	// Name labels the sweep (e.g. "nightly" or "seeds 0..9999").
	Name string
	// Started is when the sweep started.
	Started time.Time
	// Wall is the real time the sweep took.
	Wall time.Duration
	// Workers is the number of worker processes.
	Workers int
	// Shard is "i/n" when the sweep is one shard of n, or "".
	Shard string
	// Profile is the invariants profile the results were judged under.
	Profile string
	// PionVersion is the Pion module version under test, e.g.
	// "github.com/pion/webrtc/v4 v4.2.26".
	PionVersion string
	// Reachable, if set, is the documented reachable close-point space
	// (coverage.Reachable()); the summary then says how much of it the
	// results hit.
	Reachable []string
	// Results has one entry per scenario.
	Results []Result
	// WorkerStarts is how many worker processes were started, and
	// WorkerStartWall the real time they took from exec to ready, summed
	// (0 for an in-process sweep).
	WorkerStarts    int
	WorkerStartWall time.Duration
	// Teardown is the teardown coverage of Pion's modules during the
	// sweep (closesim run -cover), nil when it was not measured.
	Teardown *coverage.TeardownCoverage
	// Interrupted is set when the sweep was stopped (SIGINT or SIGTERM)
	// before it ran every seed: Results holds what finished.
	Interrupted bool
	// Planned is the number of scenarios the sweep was to run (0 when
	// unknown, as under -duration).
	Planned int
}

// File names inside a report directory.
const (
	ResultsFile  = "results.jsonl"
	SweepFile    = "sweep.json"
	SummaryFile  = "summary.json"
	JUnitFile    = "junit.xml"
	MarkdownFile = "summary.md"
	FailuresDir  = "failures"
)

// Write writes the report of s into dir (created if needed): results.jsonl
// (WriteResults), sweep.json (the Header), summary.json (Summarize),
// junit.xml (WriteJUnit), summary.md (WriteMarkdown), under the w3c
// profile conformance.md (WriteConformance), and for every failed
// result a folder failures/seed-<N>/ with scenario.json, trace.txt,
// shrunk.json (when the result has a shrunk scenario), verdict.json and
// timeline.html (WriteTimeline). A second failed result with the same seed
// gets failures/seed-<N>-2/, and so on. Write deletes nothing: write each
// report into a fresh directory.
func Write(dir string, s Sweep) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	sum := Summarize(s)
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{ResultsFile, func(w io.Writer) error { return WriteResults(w, s.Results) }},
		{SweepFile, func(w io.Writer) error { return writeJSON(w, header(s)) }},
		{SummaryFile, func(w io.Writer) error { return writeJSON(w, sum) }},
		{JUnitFile, func(w io.Writer) error { return WriteJUnit(w, s) }},
		{MarkdownFile, func(w io.Writer) error { return writeMarkdown(w, sum) }},
	}
	if tc := s.Teardown; tc != nil {
		files = append(files, struct {
			name  string
			write func(io.Writer) error
		}{TeardownJSONFile, func(w io.Writer) error { return writeJSON(w, tc) }}, struct {
			name  string
			write func(io.Writer) error
		}{TeardownMDFile, func(w io.Writer) error { return WriteTeardownMarkdown(w, s.Name, *tc) }})
	}
	if s.Profile == string(invariants.W3C) {
		files = append(files, struct {
			name  string
			write func(io.Writer) error
		}{ConformanceFile, func(w io.Writer) error { return WriteConformance(w, s) }})
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(dir, f.name), f.write); err != nil {
			return err
		}
	}
	dirs := failureDirs(s.Results)
	for i := range s.Results {
		if d, ok := dirs[i]; ok {
			if err := writeFailure(filepath.Join(dir, filepath.FromSlash(d)), &s.Results[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// failureDirs assigns each failed result (by index) its folder, relative
// to the report directory, in slash form.
func failureDirs(rs []Result) map[int]string {
	out := map[int]string{}
	used := map[uint64]int{}
	for i := range rs {
		if !rs[i].Failed() {
			continue
		}
		seed := rs[i].Seed
		used[seed]++
		d := FailuresDir + "/seed-" + strconv.FormatUint(seed, 10)
		if n := used[seed]; n > 1 {
			d += "-" + strconv.Itoa(n)
		}
		out[i] = d
	}
	return out
}

// writeFailure writes the folder of one failed result.
func writeFailure(dir string, r *Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	scenario := func(sc scenarios.Scenario) func(io.Writer) error {
		return func(w io.Writer) error {
			b, err := scenarios.Marshal(sc)
			if err != nil {
				return err
			}
			_, err = w.Write(append(b, '\n'))
			return err
		}
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"scenario.json", scenario(r.Scenario)},
		{"trace.txt", func(w io.Writer) error {
			_, err := io.WriteString(w, facts.Text(r.Events))
			return err
		}},
		{"verdict.json", func(w io.Writer) error { return writeJSON(w, r.Verdict) }},
		{"timeline.html", func(w io.Writer) error { return WriteTimeline(w, *r) }},
	}
	if r.Shrunk != nil {
		files = append(files, struct {
			name  string
			write func(io.Writer) error
		}{"shrunk.json", scenario(*r.Shrunk)})
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(dir, f.name), f.write); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("report: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Merge reads the report directories dirs (each written by Write, e.g. one
// per shard) and merges them into one Sweep. Results are deduplicated by
// seed: the same seed in two places must carry the same scenario, outcome,
// trace hash and verdict (wall times may differ), or Merge fails naming the
// seed, the field and both directories. Results come out in seed order.
//
// The merged header: Name is the distinct names joined by " + "; Profile
// and PionVersion must agree across dirs; Started is the earliest start;
// Wall spans from the earliest start to the latest end (the longest Wall
// when a start is unknown); Workers is the sum; Shard is "" when the dirs
// cover every shard of one n-way split (0- or 1-based), else the distinct
// shards joined by "+".
func Merge(dirs []string) (Sweep, error) {
	if len(dirs) == 0 {
		return Sweep{}, errors.New("merge: no report directories")
	}
	var (
		out     Sweep
		names   []string
		shards  []string
		end     time.Time
		noStart bool
		bySeed  = map[uint64]int{}    // seed -> index in out.Results
		from    = map[uint64]string{} // seed -> dir it came from
	)
	for i, dir := range dirs {
		h, rs, err := readDir(dir)
		if err != nil {
			return Sweep{}, err
		}
		if i == 0 {
			out.Profile, out.PionVersion = h.Profile, h.PionVersion
		} else {
			if h.Profile != out.Profile {
				return Sweep{}, fmt.Errorf("merge: %s: profile %q, but %s has %q", dir, h.Profile, dirs[0], out.Profile)
			}
			if h.PionVersion != out.PionVersion {
				return Sweep{}, fmt.Errorf("merge: %s: pion version %q, but %s has %q", dir, h.PionVersion, dirs[0], out.PionVersion)
			}
		}
		if !slices.Contains(names, h.Name) {
			names = append(names, h.Name)
		}
		if h.Shard != "" && !slices.Contains(shards, h.Shard) {
			shards = append(shards, h.Shard)
		}
		out.Workers += h.Workers
		if h.Started.IsZero() {
			noStart = true
		} else {
			if out.Started.IsZero() || h.Started.Before(out.Started) {
				out.Started = h.Started
			}
			if e := h.Started.Add(h.Wall); e.After(end) {
				end = e
			}
		}
		out.Wall = max(out.Wall, h.Wall)
		for _, r := range rs {
			j, dup := bySeed[r.Seed]
			if !dup {
				bySeed[r.Seed] = len(out.Results)
				from[r.Seed] = dir
				out.Results = append(out.Results, r)
				continue
			}
			if field := conflict(out.Results[j], r); field != "" {
				return Sweep{}, fmt.Errorf("merge: seed %d: conflicting results in %s and %s: %s differs", r.Seed, from[r.Seed], dir, field)
			}
		}
	}
	if !noStart && !out.Started.IsZero() {
		out.Wall = end.Sub(out.Started)
	}
	out.Name = strings.Join(names, " + ")
	out.Shard = mergedShard(shards)
	slices.SortStableFunc(out.Results, func(a, b Result) int { return cmp.Compare(a.Seed, b.Seed) })
	return out, nil
}

// readDir reads one report directory's sweep.json and results.jsonl.
func readDir(dir string) (Header, []Result, error) {
	var h Header
	data, err := os.ReadFile(filepath.Join(dir, SweepFile))
	if err != nil {
		return h, nil, fmt.Errorf("merge: %w", err)
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return h, nil, fmt.Errorf("merge: %s: %w", filepath.Join(dir, SweepFile), err)
	}
	if h.Version != SweepVersion {
		return h, nil, fmt.Errorf("merge: %s: version %d, want %d", filepath.Join(dir, SweepFile), h.Version, SweepVersion)
	}
	path := filepath.Join(dir, ResultsFile)
	f, err := os.Open(path)
	if err != nil {
		return h, nil, fmt.Errorf("merge: %w", err)
	}
	defer f.Close()
	rs, err := ReadResults(f)
	if err != nil {
		return h, nil, fmt.Errorf("merge: %s: %w", path, err)
	}
	if len(rs) != h.Results {
		return h, nil, fmt.Errorf("merge: %s has %d results but %s says %d (truncated?)", path, len(rs), SweepFile, h.Results)
	}
	return h, rs, nil
}

// conflict names the first field in which two results of the same seed
// disagree, or returns "".
func conflict(a, b Result) string {
	switch {
	case a.Outcome != b.Outcome:
		return fmt.Sprintf("outcome (%q vs %q)", a.Outcome, b.Outcome)
	case a.TraceHash != b.TraceHash:
		return fmt.Sprintf("trace_hash (%q vs %q)", a.TraceHash, b.TraceHash)
	case !jsonEqual(a.Scenario, b.Scenario):
		return "scenario"
	case !jsonEqual(a.Verdict, b.Verdict):
		return fmt.Sprintf("verdict (%s vs %s)", a.Status(), b.Status())
	}
	return ""
}

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// mergedShard describes the shards a merge covered (see Merge).
func mergedShard(shards []string) string {
	if len(shards) == 0 {
		return ""
	}
	n := -1
	got := map[int]bool{}
	for _, s := range shards {
		is, ns, ok := strings.Cut(s, "/")
		i, err1 := strconv.Atoi(is)
		m, err2 := strconv.Atoi(ns)
		if !ok || err1 != nil || err2 != nil || m <= 0 || (n != -1 && m != n) {
			n = -2
			break
		}
		n = m
		got[i] = true
	}
	if n > 0 && len(got) == n {
		all0, all1 := true, true
		for i := range n {
			all0 = all0 && got[i]
			all1 = all1 && got[i+1]
		}
		if all0 || all1 {
			return ""
		}
	}
	slices.Sort(shards)
	return strings.Join(shards, "+")
}
