package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/closesim/closesim"
	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/internal/protocol"
	"github.com/closesim/closesim/report"
	"github.com/closesim/closesim/scenarios"
)

// releaseFlags are the flags closesim matrix and bisect share: where the
// scenarios come from, how each release is built and how it runs.
type releaseFlags struct {
	tg       *target
	seed     *uint64
	n        *int
	repeat   *int
	known    *string
	profile  *string
	cache    *string
	offline  *bool
	workers  *int
	watchdog *time.Duration
	timeout  *time.Duration
	quiet    *bool
}

func addReleaseFlags(fs *flag.FlagSet, defaultN int) releaseFlags {
	return releaseFlags{
		tg:       addTargetFlags(fs),
		seed:     fs.Uint64("seed", 0, "first generated seed (with -n)"),
		n:        fs.Int("n", defaultN, "run the generated seeds -seed..-seed+n-1 instead of scenario files"),
		repeat:   fs.Int("repeat", 1, "runs of each scenario per release; a cell shows how often its verdict occurred"),
		known:    fs.String("known", "auto", "known-issues JSON files, comma-separated (\"\" for none; auto: the issues closesim ships plus known-issues.json at the suite's module root); their releases lists are ignored, so that each cell names the known issue it matched on every release"),
		profile:  fs.String("profile", "pion", "invariant profile: pion or w3c"),
		cache:    fs.String("cache", "", "build cache directory (default: the user cache directory's closesim/matrix)"),
		offline:  fs.Bool("offline", false, "download nothing: build only releases whose modules are in the module cache (GOPROXY=off)"),
		workers:  fs.Int("workers", runtime.NumCPU(), "worker processes per release"),
		watchdog: fs.Duration("watchdog", time.Second, "wall time after which a scenario that makes no progress is declared wedged"),
		timeout:  fs.Duration("timeout", time.Minute, "wall time a worker may take for one scenario before it is killed"),
		quiet:    fs.Bool("quiet", false, "no progress lines"),
	}
}

// releaseSetup is what a matrix or bisect runs on each release.
type releaseSetup struct {
	rf      releaseFlags
	b       *builder
	scen    []scenarioRef
	out     string // report directory
	known   string // the known-issues file the workers load ("" for none)
	profile string

	// The world a matrix or bisect acts on, replaced in tests: build and
	// run a spec (runRelease), a spec's pion modules, a module's versions.
	run          func(buildSpec) releaseRun
	requirements func(buildSpec) ([]requirement, error)
	versions     func(path string) ([]string, error)
}

// scenarioRef is one scenario of a matrix: a file or a generated seed.
type scenarioRef struct {
	name string // the row label: the file's name, or "seed N"
	job  job
}

// setup validates the shared flags and the scenario arguments, finds the
// suite's module and writes the release-free known-issues file into out.
func (rf releaseFlags) setup(out string, args []string) (*releaseSetup, error) {
	switch {
	case *rf.repeat < 1:
		return nil, usagef("-repeat must be >= 1, got %d", *rf.repeat)
	case *rf.workers < 1:
		return nil, usagef("-workers must be >= 1, got %d", *rf.workers)
	case *rf.n < 0:
		return nil, usagef("-n must be >= 0, got %d", *rf.n)
	case *rf.profile != "pion" && *rf.profile != "w3c":
		return nil, usagef("-profile must be pion or w3c, got %q", *rf.profile)
	case *rf.n > 0 && len(args) > 0:
		return nil, usagef("give scenario files or -n, not both")
	}
	b, err := newBuilder(*rf.tg, *rf.cache, *rf.offline)
	if err != nil {
		return nil, err
	}
	s := &releaseSetup{rf: rf, b: b, profile: *rf.profile, requirements: b.requirements}
	s.run = s.runRelease
	s.versions = func(path string) ([]string, error) { return moduleVersions(path, *rf.offline) }
	if s.out, err = absPath(out); err != nil {
		return nil, err
	}
	if *rf.n > 0 {
		for k := range uint64(*rf.n) {
			seed := *rf.seed + k
			s.scen = append(s.scen, scenarioRef{name: fmt.Sprintf("seed %d", seed), job: job{seed: seed}})
		}
	} else {
		if len(args) == 0 {
			def := filepath.Join(b.mod.dir, "docs", "findings")
			if _, err := os.Stat(def); err != nil {
				return nil, usagef("no scenarios: give scenario files or directories, or -n (the default, %s, does not exist)", def)
			}
			args = []string{def}
		}
		files, err := scenarioFiles(args)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			s.scen = append(s.scen, scenarioRef{name: filepath.Base(f), job: job{file: f}})
		}
	}
	if err := os.MkdirAll(s.out, 0o755); err != nil {
		return nil, fmt.Errorf("report directory: %w", err)
	}
	if s.known, err = releaseFreeKnown(*rf.known, b.mod.dir, s.profile, filepath.Join(s.out, "known-issues-all-releases.json")); err != nil {
		return nil, err
	}
	return s, nil
}

// scenarioFiles expands files and directories (every regular file in them,
// not recursively) into absolute paths, each validated as a scenario file.
func scenarioFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, usagef("%s: %v", a, errors.Unwrap(err))
		}
		paths := []string{a}
		if st.IsDir() {
			entries, err := os.ReadDir(a)
			if err != nil {
				return nil, usagef("%s: %v", a, err)
			}
			paths = paths[:0]
			for _, e := range entries {
				if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
					paths = append(paths, filepath.Join(a, e.Name()))
				}
			}
			if len(paths) == 0 {
				return nil, usagef("%s: no scenario files in it", a)
			}
		}
		for _, p := range paths {
			if _, err := scenarios.ReadFile(p); err != nil {
				return nil, usagef("%v", err)
			}
			abs, err := absPath(p)
			if err != nil {
				return nil, err
			}
			out = append(out, abs)
		}
	}
	return out, nil
}

// releaseFreeKnown writes the known issues -known names into path with
// their releases lists removed and returns path ("" for -known ""). The
// matrix asks on which releases each issue reproduces, so an entry must
// match on every release, not only on those it was seen on.
func releaseFreeKnown(known, modDir, profile, path string) (string, error) {
	if known == "" {
		return "", nil
	}
	var sources [][]byte
	if known == "auto" {
		sources = append(sources, closesim.KnownIssues())
		if profile == "w3c" {
			sources = append(sources, closesim.W3CDeviations())
		}
		for _, name := range []string{"known-issues.json", "deviations-w3c.json"} {
			if name == "deviations-w3c.json" && profile != "w3c" {
				continue
			}
			data, err := os.ReadFile(filepath.Join(modDir, name))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			} else if err != nil {
				return "", err
			}
			sources = append(sources, data)
		}
	} else {
		for _, f := range strings.Split(known, ",") {
			data, err := os.ReadFile(f)
			if err != nil {
				return "", usagef("-known: %v", err)
			}
			sources = append(sources, data)
		}
	}
	var merged []map[string]json.RawMessage
	index := map[string]int{}
	for _, data := range sources {
		var entries []map[string]json.RawMessage
		if err := json.Unmarshal(data, &entries); err != nil {
			return "", usagef("-known: not a JSON array of known issues: %v", err)
		}
		for _, e := range entries {
			delete(e, "releases")
			var id string
			_ = json.Unmarshal(e["id"], &id)
			if i, ok := index[id]; ok {
				merged[i] = e // a later file's entry replaces an earlier one of its ID
				continue
			}
			index[id] = len(merged)
			merged = append(merged, e)
		}
	}
	data, err := json.MarshalIndent(merged, "", "  ")
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, append(data, '\n'), 0o644)
}

// cellVerdict is the verdict of one run, as a matrix cell compares it:
// key is "pass", "known F2 F7", "fail INVARIANT...", "wedge INVARIANT..."
// or "crash"; detail is the wedge's headline or the failure's message.
func cellVerdict(r report.Result) (key, detail string) {
	switch r.Status() {
	case report.StatusPass:
		return "pass", ""
	case report.StatusKnown:
		var ids []string
		for _, l := range r.Verdict.Known {
			ids = append(ids, l.Issue.ID)
		}
		slices.SortFunc(ids, compareIDs)
		return "known " + strings.Join(slices.Compact(ids), " "), r.Headline
	}
	if r.Outcome == report.OutcomeCrash {
		return "crash", firstLine(r.Diagnosis)
	}
	ids := r.FailedIDs()
	slices.Sort(ids)
	kind := "fail "
	if r.Outcome == string(facts.OutcomeWedge) || r.Outcome == string(facts.OutcomeDeadlock) {
		kind = "wedge "
	}
	detail = r.Message()
	if r.Headline != "" {
		detail = r.Headline
	}
	return kind + strings.Join(ids, " "), detail
}

// cell is the outcome of one scenario on one release over -repeat runs.
type cell struct {
	// Verdict is the most frequent run verdict (cellVerdict's key).
	Verdict string `json:"verdict"`
	// Detail is that verdict's wedge headline or failure message.
	Detail string `json:"detail,omitempty"`
	// Counts maps each verdict seen to its number of runs.
	Counts map[string]int `json:"counts"`
	// Runs is the number of runs.
	Runs int `json:"runs"`
	// Repro replays the scenario against this release's build.
	Repro string `json:"repro,omitempty"`
}

// label is the cell as the matrix table shows it.
func (c cell) label() string {
	if c.Runs == 0 {
		return "—"
	}
	l := c.Verdict
	switch {
	case l == "pass":
	case strings.HasPrefix(l, "known "):
		l = strings.TrimPrefix(l, "known ")
	default:
		l = strings.ToUpper(l[:1]) + l[1:]
	}
	if n := c.Counts[c.Verdict]; n < c.Runs {
		l += fmt.Sprintf(" (%d/%d)", n, c.Runs)
	}
	return l
}

// tally aggregates the runs of one scenario.
func tally(rs []report.Result) cell {
	c := cell{Counts: map[string]int{}, Runs: len(rs)}
	details := map[string]string{}
	for _, r := range rs {
		k, d := cellVerdict(r)
		c.Counts[k]++
		if _, ok := details[k]; !ok {
			details[k] = d
		}
	}
	for _, k := range sortedKeys(c.Counts) {
		if c.Verdict == "" || c.Counts[k] > c.Counts[c.Verdict] {
			c.Verdict = k
		}
	}
	c.Detail = details[c.Verdict]
	return c
}

// releaseRun is one release's column of a matrix.
type releaseRun struct {
	// Release is the build: a webrtc release, perhaps with moved modules.
	Release string `json:"release"`
	// Refused says why the release could not be built ("" if it was).
	Refused string `json:"refused,omitempty"`
	// Cached reports that the build came from the cache.
	Cached bool `json:"cached,omitempty"`
	// BuildWall and RunWall are the wall times of the build and the runs.
	BuildWall time.Duration `json:"build_wall_ns"`
	RunWall   time.Duration `json:"run_wall_ns"`
	// Modules are the pion modules of the build.
	Modules map[string]string `json:"modules,omitempty"`
	// Cells maps each scenario's name to its cell.
	Cells map[string]cell `json:"cells,omitempty"`
}

// runRelease builds spec and runs the setup's scenarios on it.
func (s *releaseSetup) runRelease(spec buildSpec) releaseRun {
	rr := releaseRun{Release: spec.String()}
	start := time.Now()
	if !*s.rf.quiet {
		fmt.Fprintf(os.Stderr, "%s: building\n", spec)
	}
	bd, err := s.b.build(spec)
	rr.BuildWall = time.Since(start)
	if err != nil {
		rr.Refused = err.Error()
		fmt.Fprintf(os.Stderr, "%s: refused: %v\n", spec, err)
		return rr
	}
	rr.Cached = bd.cached
	rr.Modules = map[string]string{}
	for _, m := range bd.modules {
		rr.Modules[m.path] = m.version
	}
	var jobs []job
	for range *s.rf.repeat {
		for _, sc := range s.scen {
			jobs = append(jobs, sc.job)
		}
	}
	c := runConfig{
		target: *s.rf.tg, profile: s.profile, known: s.known, workers: *s.rf.workers,
		watchdog: *s.rf.watchdog, timeout: *s.rf.timeout, noProgress: *s.rf.quiet,
		out: filepath.Join(s.out, dirName(spec)), jobs: jobs, dir: bd.pkgDir,
		pion: protocol.PionVersion(spec.webrtc), shardN: 1,
	}
	start = time.Now()
	sw, err := collect(bd.bin, c)
	rr.RunWall = time.Since(start)
	if err != nil {
		rr.Refused = "run: " + err.Error()
		return rr
	}
	byName := map[string][]report.Result{}
	for _, r := range sw.Results {
		name := filepath.Base(r.File)
		if r.File == "" {
			name = fmt.Sprintf("seed %d", r.Seed)
		}
		byName[name] = append(byName[name], r)
	}
	rr.Cells = map[string]cell{}
	for _, sc := range s.scen {
		cl := tally(byName[sc.name])
		cl.Repro = s.reproOn(bd, sc)
		rr.Cells[sc.name] = cl
	}
	return rr
}

// reproOn is the command that replays sc against build bd.
func (s *releaseSetup) reproOn(bd *build, sc scenarioRef) string {
	in := fmt.Sprintf("-closesim.seed=%d", sc.job.seed)
	if sc.job.file != "" {
		in = "-closesim.file=" + sc.job.file
	}
	known := ""
	if s.known != "" {
		known = " -closesim.known=" + s.known
	}
	return fmt.Sprintf("(cd %s && %s -test.run '%s' -test.count=1 -test.v %s%s)", bd.pkgDir, bd.bin, runPattern(s.rf.tg.test), in, known)
}

// dirName is a build's report directory name.
func dirName(spec buildSpec) string {
	return strings.NewReplacer(" with ", "+", "/", "_", "@", "_", " ", "_").Replace(spec.String())
}

// matrix is closesim matrix's result, as matrix.json holds it.
type matrix struct {
	// Target is the suite: package and test.
	Target string `json:"target"`
	// Profile is the invariant profile.
	Profile string `json:"profile"`
	// Repeat is the number of runs per scenario and release.
	Repeat int `json:"repeat"`
	// Scenarios are the rows, in order.
	Scenarios []string `json:"scenarios"`
	// Releases are the columns, oldest first.
	Releases []releaseRun `json:"releases"`
	// Wall is the matrix's wall time.
	Wall time.Duration `json:"wall_ns"`
	// Started is when it started.
	Started time.Time `json:"started"`
}

func cmdMatrix(args []string) error {
	fs := newFlags("matrix", "matrix -versions LIST [-pkg PKG -test TEST] [-n N [-seed S] | FILE|DIR...] [-repeat K] [-out DIR]\n\nBuilds the suite's test binary against each pion/webrtc release of -versions (every pion module\npinned at the version that release's go.mod names, in a scratch copy of the module; builds are\ncached), runs the same scenarios on each (by default the suite module's docs/findings/), and\nwrites matrix.md and matrix.json: scenario x release -> verdict.")
	versions := fs.String("versions", "", "releases: a comma-separated list of versions and ranges FROM..TO, e.g. v4.2.10,v4.2.18..v4.2.26 (required)")
	out := fs.String("out", "closesim-matrix", "report directory: matrix.md, matrix.json and one sweep report per release")
	rf := addReleaseFlags(fs, 0)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *versions == "" {
		return usagef("-versions is required, e.g. -versions v4.2.10,v4.2.18,v4.2.26 or v4.2.10..v4.2.26")
	}
	vs, err := expandVersions(*versions, *rf.offline)
	if err != nil {
		return err
	}
	s, err := rf.setup(*out, fs.Args())
	if err != nil {
		return err
	}
	m := s.matrix(vs)
	if err := m.write(s.out); err != nil {
		return err
	}
	m.print(os.Stdout)
	fmt.Printf("report: %s (matrix.md, matrix.json, a sweep report per release)\n", *out)
	if !slices.ContainsFunc(m.Releases, func(rr releaseRun) bool { return rr.Refused == "" }) {
		return fmt.Errorf("no release of %s could be built and run", *versions)
	}
	for _, rr := range m.Releases {
		for _, cl := range rr.Cells {
			if cl.Verdict != "pass" && !strings.HasPrefix(cl.Verdict, "known ") {
				return errFailures
			}
		}
	}
	return nil
}

// matrix runs the setup's scenarios on every release of vs.
func (s *releaseSetup) matrix(vs []string) matrix {
	m := matrix{Target: s.rf.tg.pkg + " " + s.rf.tg.test, Profile: s.profile, Repeat: *s.rf.repeat, Started: time.Now()}
	for _, sc := range s.scen {
		m.Scenarios = append(m.Scenarios, sc.name)
	}
	for _, v := range vs {
		rr := s.run(buildSpec{webrtc: v})
		if !*s.rf.quiet && rr.Refused == "" {
			fmt.Fprintf(os.Stderr, "%s: built in %s%s, ran %d scenarios in %s\n", v, rr.BuildWall.Round(time.Millisecond), cachedNote(rr.Cached), len(s.scen)**s.rf.repeat, rr.RunWall.Round(time.Millisecond))
		}
		m.Releases = append(m.Releases, rr)
	}
	m.Wall = time.Since(m.Started)
	return m
}

func cachedNote(cached bool) string {
	if cached {
		return " (cached)"
	}
	return ""
}

// write writes matrix.json and matrix.md into dir.
func (m matrix) write(dir string) error {
	return writeReports(dir, "matrix", m, func(w io.Writer) error { m.markdown(w); return nil })
}

// writeReports writes v as dir/name.json and, with md, dir/name.md.
func writeReports(dir, name string, v any, md func(io.Writer) error) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, name+".md"))
	if err != nil {
		return err
	}
	if err := md(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// print writes the matrix table for a terminal.
func (m matrix) print(w io.Writer) {
	width := len("scenario")
	for _, sc := range m.Scenarios {
		width = max(width, len(sc))
	}
	cols := make([]int, len(m.Releases))
	for i, rr := range m.Releases {
		cols[i] = len(rr.Release)
		for _, sc := range m.Scenarios {
			cols[i] = max(cols[i], len(rr.Cells[sc].label()))
		}
	}
	fmt.Fprintf(w, "%-*s", width, "scenario")
	for i, rr := range m.Releases {
		fmt.Fprintf(w, "  %-*s", cols[i], rr.Release)
	}
	fmt.Fprintln(w)
	for _, sc := range m.Scenarios {
		fmt.Fprintf(w, "%-*s", width, sc)
		for i, rr := range m.Releases {
			fmt.Fprintf(w, "  %-*s", cols[i], rr.Cells[sc].label())
		}
		fmt.Fprintln(w)
	}
	for _, rr := range m.Releases {
		if rr.Refused != "" {
			fmt.Fprintf(w, "%s: refused: %s\n", rr.Release, rr.Refused)
		}
	}
	for _, sc := range m.Scenarios {
		for _, rr := range m.Releases {
			if cl := rr.Cells[sc]; cl.Runs > 0 && cl.Verdict != "pass" && !strings.HasPrefix(cl.Verdict, "known ") {
				fmt.Fprintf(w, "FAIL %s on %s: %s: %s\n  repro: %s\n", sc, rr.Release, cl.Verdict, firstLine(cl.Detail), cl.Repro)
			}
		}
	}
	fmt.Fprintf(w, "matrix: %d scenarios x %d releases in %s\n", len(m.Scenarios), len(m.Releases), m.Wall.Round(time.Second))
}

// markdown writes matrix.md.
func (m matrix) markdown(w io.Writer) {
	fmt.Fprintf(w, "# closesim matrix\n\n")
	fmt.Fprintf(w, "Suite `%s`, profile `%s`, %d run(s) per scenario and release; %d scenarios x %d releases in %s (started %s).\n\n",
		m.Target, m.Profile, m.Repeat, len(m.Scenarios), len(m.Releases), m.Wall.Round(time.Second), m.Started.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "A cell is the scenario's verdict on that release: `pass`, the known issues it matched (their\nreleases lists ignored), `Fail`/`Wedge` with the failing invariants, or `Crash`; `(k/n)` when\nonly k of n runs gave it; `—` when the release was not built.\n\n")
	fmt.Fprintf(w, "| release | build | runs | pion modules it moved (from the previous release built) |\n|---|---|---|---|\n")
	var prev map[string]string
	for _, rr := range m.Releases {
		if rr.Refused != "" {
			fmt.Fprintf(w, "| %s | refused: %s | | |\n", rr.Release, mdEscape(rr.Refused))
			continue
		}
		var moved []string
		for _, p := range sortedKeys(rr.Modules) {
			if prev != nil && p != protocol.PionModule && prev[p] != rr.Modules[p] {
				moved = append(moved, fmt.Sprintf("%s %s", strings.TrimPrefix(p, "github.com/pion/"), rr.Modules[p]))
			}
		}
		prev = rr.Modules
		fmt.Fprintf(w, "| %s | %s%s | %s | %s |\n", rr.Release, rr.BuildWall.Round(time.Second), cachedNote(rr.Cached), rr.RunWall.Round(time.Millisecond), strings.Join(moved, ", "))
	}
	fmt.Fprintf(w, "\n| scenario |")
	for _, rr := range m.Releases {
		fmt.Fprintf(w, " %s |", rr.Release)
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", len(m.Releases)))
	for _, sc := range m.Scenarios {
		fmt.Fprintf(w, "| %s |", sc)
		for _, rr := range m.Releases {
			fmt.Fprintf(w, " %s |", mdEscape(rr.Cells[sc].label()))
		}
		fmt.Fprintln(w)
	}
	// Each known issue: on how many scenarios each release showed it.
	seen := map[string]map[string]int{}
	for _, rr := range m.Releases {
		for _, cl := range rr.Cells {
			for k, n := range cl.Counts {
				ids, ok := strings.CutPrefix(k, "known ")
				if !ok {
					continue
				}
				for _, id := range strings.Fields(ids) {
					if seen[id] == nil {
						seen[id] = map[string]int{}
					}
					if n > 0 {
						seen[id][rr.Release]++
					}
				}
			}
		}
	}
	if len(seen) > 0 {
		fmt.Fprintf(w, "\n## Known issues by release\n\nScenarios that showed each known issue in at least one run, per release.\n\n| issue |")
		for _, rr := range m.Releases {
			fmt.Fprintf(w, " %s |", rr.Release)
		}
		fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", len(m.Releases)))
		ids := make([]string, 0, len(seen))
		for id := range seen {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, compareIDs)
		for _, id := range ids {
			fmt.Fprintf(w, "| %s |", id)
			for _, rr := range m.Releases {
				if rr.Refused != "" {
					fmt.Fprint(w, " — |")
					continue
				}
				fmt.Fprintf(w, " %d |", seen[id][rr.Release])
			}
			fmt.Fprintln(w)
		}
	}
	var details []string
	for _, sc := range m.Scenarios {
		for _, rr := range m.Releases {
			cl := rr.Cells[sc]
			if cl.Runs == 0 || cl.Verdict == "pass" || strings.HasPrefix(cl.Verdict, "known ") {
				continue
			}
			details = append(details, fmt.Sprintf("- **%s on %s**: %s: %s  \n  repro: `%s`", sc, rr.Release, cl.Verdict, mdEscape(cl.Detail), cl.Repro))
		}
	}
	if len(details) > 0 {
		fmt.Fprintf(w, "\n## Failures\n\n%s\n", strings.Join(details, "\n"))
	}
}

// compareIDs orders known-issue IDs as F2 < F10 < F10b.
func compareIDs(a, b string) int {
	na, ra := idNumber(a)
	nb, rb := idNumber(b)
	if na != nb {
		return na - nb
	}
	return strings.Compare(ra, rb)
}

func idNumber(id string) (int, string) {
	i := 0
	for i < len(id) && (id[i] < '0' || id[i] > '9') {
		i++
	}
	j := i
	n := 0
	for j < len(id) && id[j] >= '0' && id[j] <= '9' {
		n = n*10 + int(id[j]-'0')
		j++
	}
	return n, id[:i] + id[j:]
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
