package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/closesim/closesim"
	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/report"
	"github.com/closesim/closesim/scenarios"
)

// browserTest is the test in closesim's fuzz package that runs browser
// scenarios (fuzz/browser_test.go).
const browserTest = "TestBrowserSweep"

func cmdBrowser(args []string) error {
	fs := newFlags("browser", "browser [-pkg P -test T] [-n N] [-seed S] [-repeat K] [-window D] [-out DIR]\n\nRuns generated close scenarios between a Pion peer on loopback UDP and headless Chromium (Debian's\nchromium package, or $CLOSESIM_CHROMIUM), each K times: real time against a real browser, so not\ndeterministic; browser.md reports how often each outcome occurred, what each side observed when\nPion closed and when Chromium closed, how soon the other side noticed, the W3C close algorithm on\neach implementation's own close, closesim's invariants judging both sides, and every difference,\ntriaged. The Pion side is closesim's own peer, or a user's service: -pkg and -test name a test that\ncalls suite.Browser with BrowserConfig.Peer.")
	tg := target{}
	fs.StringVar(&tg.pkg, "pkg", defaultPkg, "the package whose test binary closesim drives (a user's package: one whose test calls suite.Browser)")
	fs.StringVar(&tg.test, "test", browserTest, "the test in -pkg that calls suite.Browser")
	n := fs.Int("n", 200, "scenarios (seeds -seed, -seed+1, ...)")
	seed := fs.Uint64("seed", 0, "first seed")
	repeat := fs.Int("repeat", 3, "runs of each scenario")
	window := fs.Duration("window", 2*time.Second, "how long each run observes both sides after the close")
	out := fs.String("out", "closesim-browser", "report directory: browser.md, browser.json, runs.jsonl")
	file := fs.String("file", "", "run this browser scenario file (JSON, scenarios.BrowserScenario: a finding's repro) instead of -n generated ones")
	rewrite := fs.Bool("rewrite", false, "run nothing: write -out's browser.md and browser.json again from its runs.jsonl (after a closesim upgrade that judges or reports more)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *rewrite {
		if fs.NArg() > 0 {
			return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
		}
		return rewriteBrowser(*out)
	}
	switch {
	case fs.NArg() > 0:
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	case *n < 1:
		return usagef("-n must be >= 1, got %d", *n)
	case *repeat < 1:
		return usagef("-repeat must be >= 1, got %d", *repeat)
	case *window <= 0:
		return usagef("-window must be > 0, got %s", *window)
	}
	if *file != "" {
		if _, err := scenarios.ReadBrowserFile(*file); err != nil {
			return usagef("-file: %v", err)
		}
		abs, err := absPath(*file)
		if err != nil {
			return err
		}
		*file = abs
		*n = 1
	}
	chromium, err := chromiumVersion()
	if err != nil {
		return usagef("%v", err)
	}
	dir, err := absPath(*out)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report directory: %w", err)
	}
	runs := filepath.Join(dir, "runs.jsonl")
	if err := os.Remove(runs); err != nil && !os.IsNotExist(err) {
		return err
	}
	start := time.Now()
	interrupted := false
	testErr := withBinary(tg, nil, func(bin string) error {
		cmd := exec.Command(bin, "-test.run="+runPattern(browserTest), "-test.v", "-test.count=1", "-test.timeout=0",
			fmt.Sprintf("-closesim.browser.n=%d", *n), fmt.Sprintf("-closesim.browser.seed=%d", *seed),
			fmt.Sprintf("-closesim.browser.repeat=%d", *repeat), "-closesim.browser.window="+window.String(),
			"-closesim.browser.out="+runs, "-closesim.browser.file="+*file)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		// A process group of its own: SIGINT or SIGTERM reaches closesim,
		// which stops the runs and still writes the reports of those that
		// finished (runs.jsonl has them as they finish).
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sigs)
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("run %s: %w", browserTest, err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				return errFailures
			}
			return nil
		case <-sigs:
			interrupted = true
			fmt.Fprintf(os.Stderr, "closesim browser: interrupted: stopping, writing the reports of the runs that finished to %s\n", *out)
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			return nil
		}
	})
	if testErr != nil && !errors.Is(testErr, errFailures) {
		return testErr // the test binary did not build or start: nothing ran
	}
	sw := report.BrowserSweep{
		Command: browserCommand(tg, browserArgs(*file, *n, *seed, *repeat, *window)),
		Rerun:   strings.TrimSpace(browserCommand(tg, "")), File: *file,
		Chromium: chromium, PionVersion: pionVersion(), Window: *window, Wall: time.Since(start),
		Interrupted: interrupted, Planned: *n * *repeat,
	}
	if sw.Runs, err = readBrowserRuns(runs); err != nil {
		return err
	}
	if sw.Known, err = browserKnown(sw.PionVersion); err != nil {
		return err
	}
	if err := writeReports(dir, "browser", sw, func(w io.Writer) error { return report.WriteBrowserMarkdown(w, sw) }); err != nil {
		return err
	}
	fmt.Printf("closesim browser: %d runs in %s; report: %s (browser.md, browser.json, runs.jsonl)\n", len(sw.Runs), sw.Wall.Round(time.Second), *out)
	if interrupted {
		return errInterrupted
	}
	return testErr
}

// chromiumVersion names the Chromium the browser tests will find.
func chromiumVersion() (string, error) {
	path := os.Getenv("CLOSESIM_CHROMIUM")
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		return "", fmt.Errorf("no Chromium found (install Debian's chromium package, or set CLOSESIM_CHROMIUM to its path)")
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %v", path, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func readBrowserRuns(path string) ([]facts.BrowserRun, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []facts.BrowserRun
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var r facts.BrowserRun
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue // a line half written when the run was killed
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// browserKnown are the known issues that label Pion's violations in a
// browser sweep's judges: those closesim ships for the release it pins and
// the W3C deviations (the browser sweep judges under the w3c profile).
func browserKnown(pionVersion string) ([]invariants.KnownIssue, error) {
	release := strings.TrimPrefix(pionVersion, "pion/webrtc ")
	release, _, _ = strings.Cut(release, " ")
	var out []invariants.KnownIssue
	for _, data := range [][]byte{closesim.KnownIssues(), closesim.W3CDeviations()} {
		issues, err := invariants.ParseKnown(data, invariants.ForRelease(release))
		if err != nil {
			return nil, fmt.Errorf("shipped known issues: %w", err)
		}
		out = append(out, issues...)
	}
	return out, nil
}

// browserCommand is the closesim browser command line with args, naming
// the package and test unless they are closesim's own.
func browserCommand(tg target, args string) string {
	if tg.pkg == defaultPkg && tg.test == browserTest {
		return "closesim browser " + args
	}
	return fmt.Sprintf("closesim browser -pkg %s -test %s %s", tg.pkg, tg.test, args)
}

// rewriteBrowser writes dir's browser reports again: the sweep's header
// from its browser.json, the runs from its runs.jsonl, judged and reported
// by this closesim.
func rewriteBrowser(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "browser.json"))
	if err != nil {
		return usagef("-rewrite: %v", err)
	}
	var sw report.BrowserSweep
	if err := json.Unmarshal(data, &sw); err != nil {
		return usagef("-rewrite: %s: %v", filepath.Join(dir, "browser.json"), err)
	}
	if sw.Runs, err = readBrowserRuns(filepath.Join(dir, "runs.jsonl")); err != nil {
		return err
	}
	if sw.Known, err = browserKnown(sw.PionVersion); err != nil {
		return err
	}
	if err := writeReports(dir, "browser", sw, func(w io.Writer) error { return report.WriteBrowserMarkdown(w, sw) }); err != nil {
		return err
	}
	fmt.Printf("closesim browser: %d runs reported again in %s (browser.md, browser.json)\n", len(sw.Runs), dir)
	return nil
}

// browserArgs are the arguments of the sweep a browser report names.
func browserArgs(file string, n int, seed uint64, repeat int, window time.Duration) string {
	if file != "" {
		return fmt.Sprintf("-file %s -repeat %d -window %s", file, repeat, window)
	}
	return fmt.Sprintf("-n %d -seed %d -repeat %d -window %s", n, seed, repeat, window)
}
