package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/closesim/closesim/coverage"
	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/internal/protocol"
	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/report"
)

type runConfig struct {
	seed       uint64
	n          int
	duration   time.Duration
	workers    int
	shardI     int
	shardN     int
	profile    string
	known      string
	out        string
	target     target
	timeout    time.Duration
	watchdog   time.Duration
	killSeed   *uint64 // test hook: kill the worker that runs this seed (nil: none)
	noFreeze   bool
	noProgress bool
	shrink     bool
	coverage   bool
	cover      bool   // -cover: collect Go coverage of Pion's modules
	coverDir   string // where the workers write their counters (-cover)
	// prior holds the results of the sweep -resume continues; their seeds
	// do not run again.
	prior []report.Result
	// interruptAfter is a test hook: after this many new results the sweep
	// sends itself SIGINT (0: never).
	interruptAfter int
	// jobs, when set, are the scenarios to run (seeds or scenario files,
	// repeats allowed) instead of the seed range (closesim matrix, bisect).
	jobs []job
	// dir is the workers' working directory ("": closesim's own): a
	// matrix build's scratch module, whose go.mod names the release.
	dir string
	// pion names the release under test in the reports ("": asked of the
	// go command in the current directory).
	pion string
}

// job is one scenario for a worker: a seed, or a scenario file.
type job struct {
	seed uint64
	file string
}

// line is the job as the worker protocol writes it.
func (j job) line() string {
	if j.file != "" {
		return protocol.FilePrefix + j.file
	}
	return strconv.FormatUint(j.seed, 10)
}

func cmdRun(args []string) error {
	fs := newFlags("run", "run [-pkg PKG -test TEST] [-seed S] [-n N | -duration D] [-workers K] [-shard i/n] [-profile pion|w3c] [-known FILE] [-out DIR]\n\nSweeps generated scenarios in worker processes at GOMAXPROCS=1, judges each against the\ninvariants of a profile, and writes summary.json, junit.xml, summary.md and a folder per failure.\nWith -pkg and -test it sweeps a user's suite (a test that calls suite.Run) instead of closesim's own.")
	var c runConfig
	seed := fs.Uint64("seed", 0, "first seed of the sweep")
	fs.IntVar(&c.n, "n", 100, "number of seeds (before sharding)")
	fs.DurationVar(&c.duration, "duration", 0, "run until this much wall time has passed instead of -n seeds")
	fs.IntVar(&c.workers, "workers", runtime.NumCPU(), "worker processes")
	shard := fs.String("shard", "", "run only shard i of n of the seed space, as i/n (0-based), e.g. 0/4")
	fs.StringVar(&c.profile, "profile", "pion", "invariant profile: pion or w3c")
	fs.StringVar(&c.known, "known", "auto", "known-issues JSON files, comma-separated: matching violations count as known, not failures (\"\" for none; auto: the issues closesim ships for its pinned Pion release plus known-issues.json at the module root, and with -profile w3c deviations-w3c.json too)")
	fs.StringVar(&c.out, "out", "closesim-out", "report directory")
	tg := addTargetFlags(fs)
	fs.DurationVar(&c.watchdog, "watchdog", time.Second, "wall time after which a scenario that makes no progress is declared wedged (a typical run takes about 6 ms)")
	freeze := fs.Bool("freeze", true, "declare a scenario wedged as soon as its bubble is provably frozen, in milliseconds (false: only -watchdog does)")
	fs.DurationVar(&c.timeout, "timeout", time.Minute, "wall time a worker may take for one scenario before it is killed and replaced")
	killSeed := fs.Int64("kill-seed", -1, "testing aid: kill the worker process while it runs this seed")
	fs.BoolVar(&c.noProgress, "quiet", false, "no progress lines")
	fs.BoolVar(&c.shrink, "shrink", true, "shrink every failing scenario (the report gets shrunk.json)")
	fs.BoolVar(&c.coverage, "coverage", false, "print the close-point coverage table: every documented close point with its run count, and the K buckets")
	resume := fs.String("resume", "", "continue the interrupted sweep whose report directory this is: its seeds and settings, skipping the seeds it finished (only -workers and -quiet may be given with it)")
	fs.IntVar(&c.interruptAfter, "interrupt-after", 0, "testing aid: send this process SIGINT after this many results")
	fs.BoolVar(&c.cover, "cover", false, "teardown coverage: build the workers with Go coverage of Pion's modules and write teardown-coverage.md/.json/.html (statement coverage of Pion's teardown functions) beside summary.json")
	if err := parse(fs, args); err != nil {
		return err
	}
	c.seed, c.target, c.noFreeze = *seed, *tg, !*freeze
	if *killSeed >= 0 {
		ks := uint64(*killSeed)
		c.killSeed = &ks
	}
	if *resume != "" {
		if err := loadResume(*resume, &c); err != nil {
			return err
		}
		*shard = fmt.Sprintf("%d/%d", c.shardI, c.shardN)
	}
	if err := c.validate(*shard, fs.Args()); err != nil {
		return err
	}
	var build []string
	if c.cover {
		out, err := absPath(c.out)
		if err != nil {
			return err
		}
		c.coverDir = filepath.Join(out, coverDataDir)
		if err := os.MkdirAll(c.coverDir, 0o755); err != nil {
			return fmt.Errorf("-cover: %w", err)
		}
		build = coverBuildFlags()
	}
	return withBinary(c.target, build, func(bin string) error { return sweep(bin, c) })
}

func (c *runConfig) validate(shard string, rest []string) error {
	switch {
	case len(rest) > 0:
		return usagef("unexpected arguments: %s", strings.Join(rest, " "))
	case c.n < 0:
		return usagef("-n must be >= 0, got %d", c.n)
	case c.duration < 0:
		return usagef("-duration must be >= 0, got %s", c.duration)
	case c.workers < 1:
		return usagef("-workers must be >= 1, got %d", c.workers)
	case c.timeout <= 0:
		return usagef("-timeout must be > 0, got %s", c.timeout)
	case c.watchdog <= 0 || c.watchdog >= c.timeout:
		return usagef("-watchdog must be > 0 and below -timeout (%s), got %s", c.timeout, c.watchdog)
	}
	if _, err := invariants.ParseProfile(c.profile); err != nil {
		return usagef("-profile: %v", err)
	}
	if c.known != "" && c.known != "auto" {
		var opts []invariants.KnownOption
		if c.target.pkg != defaultPkg {
			// A user's suite may have invariants of its own; its test
			// binary validates their entries.
			opts = append(opts, invariants.AnyInvariant())
		}
		files := strings.Split(c.known, ",")
		if _, err := invariants.LoadKnownFiles(files, opts...); err != nil {
			return usagef("-known: %v", err)
		}
		for i, f := range files {
			abs, err := absPath(f)
			if err != nil {
				return err
			}
			files[i] = abs
		}
		c.known = strings.Join(files, ",")
	}
	c.shardN = 1
	if shard != "" {
		i, n, ok := strings.Cut(shard, "/")
		si, err1 := strconv.Atoi(i)
		sn, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil || sn < 1 || si < 0 || si >= sn {
			return usagef("-shard must be i/n with 0 <= i < n, got %q", shard)
		}
		c.shardI, c.shardN = si, sn
	}
	return nil
}

// seeds yields the seeds of this shard: S, S+1, ... filtered by seed%n == i,
// up to -n seeds of the unsharded space (or without end under -duration).
// With jobs, it yields those instead.
func (c runConfig) seeds(stop <-chan struct{}, done map[uint64]bool) <-chan job {
	ch := make(chan job)
	go func() {
		defer close(ch)
		send := func(j job) bool {
			select {
			case ch <- j:
				return true
			case <-stop:
				return false
			}
		}
		if c.jobs != nil {
			for _, j := range c.jobs {
				if !send(j) {
					return
				}
			}
			return
		}
		for k := uint64(0); c.duration > 0 || k < uint64(c.n); k++ {
			s := c.seed + k
			if int(s%uint64(c.shardN)) != c.shardI || done[s] {
				continue
			}
			if !send(job{seed: s}) {
				return
			}
		}
	}()
	return ch
}

// total is the number of seeds of this shard, or -1 under -duration.
func (c runConfig) total() int {
	if c.jobs != nil {
		return len(c.jobs)
	}
	if c.duration > 0 {
		return -1
	}
	n := 0
	for k := range uint64(c.n) {
		if int((c.seed+k)%uint64(c.shardN)) == c.shardI {
			n++
		}
	}
	return n
}

func sweep(bin string, c runConfig) error {
	sw, err := collect(bin, c)
	if err != nil {
		return err
	}
	failed := printSummary(sw, c.coverage)
	// The reference rates are of closesim's own suite under the pion
	// profile: only such a sweep can miss what it should have met.
	if c.target.isDefault() && c.profile == "pion" && c.known != "" && !sw.Interrupted {
		for _, w := range unseenWarnings(sw, sweepIssues(sw, c.known)) {
			fmt.Printf("warning: %s\n", w)
		}
	}
	fmt.Printf("report: %s (summary.md, summary.json, junit.xml)\n", c.out)
	if sw.Interrupted {
		fmt.Fprintf(os.Stderr, "closesim run: interrupted after %d of %d scenarios (%d failing): continue with closesim run -resume %s\n", len(sw.Results), sw.Planned, failed, c.out)
		return errInterrupted
	}
	if failed > 0 {
		return errFailures
	}
	return nil
}

// collect runs the sweep c describes with the test binary bin and writes
// its report directory.
func collect(bin string, c runConfig) (report.Sweep, error) {
	start := time.Now()
	stop := make(chan struct{})
	var stopOnce sync.Once
	if c.duration > 0 {
		time.AfterFunc(c.duration, func() { stopOnce.Do(func() { close(stop) }) })
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return report.Sweep{}, fmt.Errorf("report directory: %w", err)
	}
	// A sweep of seeds can be resumed; one of files (matrix, bisect) is
	// rerun instead.
	if c.prior == nil && c.duration == 0 && c.jobs == nil {
		if err := writeRunFile(c); err != nil {
			return report.Sweep{}, fmt.Errorf("report directory: %w", err)
		}
	}
	out, err := openStream(c)
	if err != nil {
		return report.Sweep{}, fmt.Errorf("report directory: %w", err)
	}
	defer out.close()
	// SIGINT or SIGTERM (a CI job's timeout) stops the sweep: no new seeds,
	// the workers' scenarios in flight are dropped (a resume runs them),
	// and the reports hold what finished, marked as interrupted.
	abort := make(chan struct{})
	var interrupted atomic.Bool
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if _, ok := <-sigs; ok {
			signal.Stop(sigs) // a second signal ends closesim at once
			interrupted.Store(true)
			fmt.Fprintf(os.Stderr, "closesim run: interrupted: stopping the workers, writing the reports of what finished to %s\n", c.out)
			stopOnce.Do(func() { close(stop) })
			close(abort)
		}
	}()
	done := map[uint64]bool{}
	for _, r := range c.prior {
		done[r.Seed] = true
	}
	jobs := c.seeds(stop, done)
	results := make(chan report.Result)
	var wg sync.WaitGroup
	var stats workerStats
	for i := range c.workers {
		wg.Go(func() { runWorker(bin, c, i, jobs, results, &stats, abort) })
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	total := c.total()
	prog := newProgress(total-len(c.prior), !c.noProgress)
	all := append([]report.Result(nil), c.prior...)
	var streamErr error
	for r := range results {
		all = append(all, r)
		prog.add(r)
		if err := out.add(r); err != nil && streamErr == nil {
			streamErr = err
		}
		if c.interruptAfter > 0 && len(all)-len(c.prior) == c.interruptAfter {
			_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
		}
	}
	prog.done()
	if streamErr != nil {
		return report.Sweep{}, fmt.Errorf("stream results: %w", streamErr)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].File != all[j].File {
			return all[i].File < all[j].File
		}
		return all[i].Seed < all[j].Seed
	})
	pion := c.pion
	if pion == "" {
		pion = pionVersion()
	}
	sw := report.Sweep{
		Name: "closesim run", Started: start, Wall: time.Since(start), Workers: c.workers,
		Profile: c.profile, PionVersion: pion, Results: all, Reachable: coverage.Reachable(),
		WorkerStarts: stats.starts, WorkerStartWall: stats.wall,
		Interrupted: interrupted.Load() && (total < 0 || len(all) < total), Planned: max(total, 0),
	}
	if c.shardN > 1 {
		sw.Shard = fmt.Sprintf("%d/%d", c.shardI, c.shardN)
	}
	if c.coverDir != "" {
		tc, err := teardownCoverage(c.out, []string{c.coverDir})
		if err != nil {
			return sw, fmt.Errorf("-cover: %w", err)
		}
		sw.Teardown = tc
	}
	if err := report.Write(c.out, sw); err != nil {
		return sw, fmt.Errorf("write report: %w", err)
	}
	return sw, nil
}

// worker is one worker process.
type worker struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan string   // result lines; closed when stdout ends
	ready   chan struct{} // closed when the worker wrote its ready line
	started time.Time
	// startedIn is how long the worker took from exec to ready; read it
	// after ready is closed.
	startedIn time.Duration
	stderr    *tailBuffer
}

// maxWedgesPerWorker is how many wedged bubbles a worker may keep before it
// is replaced: a fresh worker's first run is slower than a warm one's, and
// a few frozen bubbles cost less than that.
const maxWedgesPerWorker = 4

// workerStats sums the start-up times of the workers of a sweep.
type workerStats struct {
	mu     sync.Mutex
	starts int
	wall   time.Duration
}

// add records w's start-up, once, if w said it is ready.
func (s *workerStats) add(w *worker) {
	select {
	case <-w.ready:
	default:
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.starts++
	s.wall += w.startedIn
}

func startWorker(bin string, c runConfig) (*worker, error) {
	args := []string{"-test.run=" + runPattern(c.target.test), "-test.count=1", "-closesim.worker",
		"-closesim.profile=" + c.profile, "-closesim.known=" + c.known, "-closesim.watchdog=" + c.watchdog.String(),
		fmt.Sprintf("-closesim.freeze=%v", !c.noFreeze),
		fmt.Sprintf("-closesim.shrinkfailures=%v", c.shrink)}
	env := append(os.Environ(), "GOMAXPROCS=1")
	if c.coverDir != "" {
		args = append(args, "-test.gocoverdir="+c.coverDir)
		env = append(env, "GOCOVERDIR="+c.coverDir)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Dir = c.dir
	// A process group of its own: a Ctrl-C at the terminal reaches
	// closesim, which stops its workers itself, not the workers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	w := &worker{cmd: cmd, stdin: stdin, lines: make(chan string), ready: make(chan struct{}), stderr: &tailBuffer{max: 64 << 10}}
	cmd.Stderr = w.stderr
	w.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	go func() {
		defer close(w.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 256<<20)
		ready := false
		for sc.Scan() {
			if sc.Text() == protocol.ReadyLine && !ready {
				ready = true
				w.startedIn = time.Since(w.started)
				close(w.ready)
				continue
			}
			if line, ok := strings.CutPrefix(sc.Text(), protocol.ResultPrefix); ok {
				w.lines <- line
				continue
			}
			// The test binary reports its own failures on stdout: keep
			// them with stderr for the crash report.
			_, _ = fmt.Fprintln(w.stderr, sc.Text())
		}
	}()
	return w, nil
}

func (w *worker) kill() {
	_ = w.cmd.Process.Kill()
	_ = w.cmd.Wait()
}

// runWorker feeds seeds to one worker process at a time; a worker that dies
// or does not answer in time is recorded as a crash of that seed, killed and
// replaced, so no other scenario's result is lost.
func runWorker(bin string, c runConfig, id int, jobs <-chan job, results chan<- report.Result, stats *workerStats, abort <-chan struct{}) {
	var (
		w       *worker
		started []*worker // every worker of this slot, for the start-up times
	)
	defer func() {
		if w != nil {
			_ = w.stdin.Close()
			_ = w.cmd.Wait()
		}
		for _, sw := range started {
			stats.add(sw)
		}
	}()
	afterWedge := false // the previous run of this slot wedged
	wedges := 0         // wedged bubbles the current worker keeps
	for j := range jobs {
		seed := j.seed
		if w == nil {
			var err error
			if w, err = startWorker(bin, c); err != nil {
				results <- crashResult(c.target, j, fmt.Sprintf("worker %d: %v", id, err))
				continue
			}
			started = append(started, w)
		}
		if _, err := fmt.Fprintln(w.stdin, j.line()); err != nil {
			results <- crashResult(c.target, j, fmt.Sprintf("worker %d: write seed: %v\n%s", id, err, w.stderr.String()))
			w.kill()
			w = nil
			continue
		}
		if j.file == "" && c.killSeed != nil && seed == *c.killSeed {
			w.kill() // testing aid: a worker dying mid-scenario
		}
		timer := time.NewTimer(c.timeout)
		select {
		case line, ok := <-w.lines:
			timer.Stop()
			if !ok {
				_ = w.cmd.Wait()
				results <- crashResult(c.target, j, fmt.Sprintf("worker %d died while running this scenario (%v); its last output:\n%s", id, w.cmd.ProcessState, w.stderr.String()))
				w = nil
				continue
			}
			var r report.Result
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				r = crashResult(c.target, j, fmt.Sprintf("worker %d wrote an unreadable result: %v", id, err))
			}
			r.AfterWedge = afterWedge
			afterWedge = r.Outcome == string(facts.OutcomeWedge) || r.Outcome == string(facts.OutcomeDeadlock)
			results <- r
			if afterWedge {
				wedges++
			}
			if afterWedge && (wedges >= maxWedgesPerWorker || r.WedgeBy == "watchdog") {
				// A wedged bubble stays in its process. A frozen one costs
				// no CPU but makes every goroutine dump (freeze detection)
				// longer; one the watchdog declared may still be running.
				_ = w.stdin.Close()
				_ = w.cmd.Wait()
				w, wedges = nil, 0
			}
		case <-abort:
			timer.Stop()
			w.kill() // its scenario in flight is dropped: a resume runs it
			w = nil
			return
		case <-timer.C:
			w.kill()
			results <- crashResult(c.target, j, fmt.Sprintf("worker %d did not answer within %s and was killed; its last output:\n%s", id, c.timeout, w.stderr.String()))
			w = nil
		}
	}
}

func crashResult(tg target, j job, why string) report.Result {
	if j.file != "" {
		return report.Result{File: j.file, Outcome: report.OutcomeCrash, Diagnosis: why, Repro: tg.replayFileCmd(j.file)}
	}
	return report.Result{Seed: j.seed, Outcome: report.OutcomeCrash, Diagnosis: why, Repro: tg.replayCmd(j.seed)}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// withBinary builds the test binary of tg's package in a temporary
// directory, checks that it has tg's test, runs fn with its path and
// removes it.
func withBinary(tg target, build []string, fn func(bin string) error) error {
	dir, err := os.MkdirTemp("", "closesim-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := buildTestBinary(tg.pkg, dir, build...)
	if err != nil {
		return err
	}
	if err := checkTest(bin, tg); err != nil {
		return err
	}
	return fn(bin)
}

func absPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", usagef("%v", err)
	}
	return abs, nil
}
