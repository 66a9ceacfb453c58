package main

import (
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/closesim/closesim/coverage"
	"github.com/closesim/closesim/internal/protocol"
	"github.com/closesim/closesim/report"
)

// failed reports whether r counts as a failure, as every report counts it
// (report.Result.Failed: a violation no known issue covers, a harness
// error, or a non-ok outcome no known issue covers, such as a crash).
func failed(r report.Result) bool { return r.Failed() }

// progress prints done/total, rate, failures and ETA: rewriting one line on
// a terminal, a plain line every 5 s otherwise.
type progress struct {
	total, n, fails int
	start, last     time.Time
	tty, on         bool
}

func newProgress(total int, on bool) *progress {
	fi, err := os.Stderr.Stat()
	tty := err == nil && fi.Mode()&os.ModeCharDevice != 0
	now := time.Now()
	return &progress{total: total, start: now, last: now, tty: tty, on: on}
}

func (p *progress) add(r report.Result) {
	p.n++
	if failed(r) {
		p.fails++
	}
	if !p.on {
		return
	}
	now := time.Now()
	every := 5 * time.Second
	if p.tty {
		every = 200 * time.Millisecond
	}
	if now.Sub(p.last) < every && p.n != p.total {
		return
	}
	p.last = now
	rate := float64(p.n) / now.Sub(p.start).Seconds()
	line := fmt.Sprintf("closesim: %d", p.n)
	if p.total >= 0 {
		eta := time.Duration(float64(p.total-p.n)/rate) * time.Second
		line += fmt.Sprintf("/%d done, %.0f scenarios/s, %d failures, ETA %s", p.total, rate, p.fails, eta.Round(time.Second))
	} else {
		line += fmt.Sprintf(" done, %.0f scenarios/s, %d failures", rate, p.fails)
	}
	if p.tty {
		fmt.Fprintf(os.Stderr, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(os.Stderr, line)
	}
}

func (p *progress) done() {
	if p.on && p.tty {
		fmt.Fprintln(os.Stderr)
	}
}

// printSummary prints totals and every failure with its repro line, and
// returns the number of failures.
func printSummary(sw report.Sweep, table bool) int {
	outcomes := map[string]int{}
	var fails []report.Result
	knownOnly := 0
	for _, r := range sw.Results {
		outcomes[r.Outcome]++
		switch {
		case failed(r):
			fails = append(fails, r)
		case len(r.Verdict.Known) > 0:
			knownOnly++
		}
	}
	names := make([]string, 0, len(outcomes))
	for o := range outcomes {
		names = append(names, o)
	}
	sort.Strings(names)
	fmt.Printf("closesim: %d scenarios in %s (%.0f/s) with %d workers, profile %s, %s\n",
		len(sw.Results), sw.Wall.Round(time.Millisecond), float64(len(sw.Results))/sw.Wall.Seconds(), sw.Workers, sw.Profile, sw.PionVersion)
	fmt.Print("outcomes:")
	for _, o := range names {
		fmt.Printf(" %s=%d", o, outcomes[o])
	}
	fmt.Printf("\nverdicts: %d pass, %d known issues only, %d fail\n", len(sw.Results)-len(fails)-knownOnly, knownOnly, len(fails))
	fmt.Println(report.Summarize(sw).Time.Line())
	printCoverage(sw, table)
	for _, r := range fails {
		what := r.Diagnosis
		if len(r.Verdict.Fail) > 0 {
			what = r.Verdict.Fail[0].String()
		}
		fmt.Printf("FAIL seed %d %s: %s\n  repro: %s\n", r.Seed, r.Scenario.Name, firstLine(what), r.Repro)
	}
	return len(fails)
}

// pionVersion names the pion/webrtc release the sweep's test binary is
// built against: the CLI itself links no Pion, so it asks the go command
// for the module the current directory's build selects (once).
func pionVersion() string {
	pionOnce.Do(func() {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", protocol.PionModule).Output()
		v := strings.TrimSpace(string(out))
		if err != nil {
			v = ""
		}
		pionVer = protocol.PionVersion(v)
	})
	return pionVer
}

var (
	pionOnce sync.Once
	pionVer  string
)

// printCoverage prints how much of the documented close-point space the
// sweep hit and, with table, every documented point with its run count
// and the K buckets.
func printCoverage(sw report.Sweep, table bool) {
	if len(sw.Reachable) == 0 {
		return
	}
	c := report.Summarize(sw).Coverage
	fmt.Println(c.Line())
	if !table {
		for _, k := range c.Missing {
			fmt.Printf("  missed: %s\n", k)
		}
		return
	}
	runs := map[string]int{}
	for _, k := range c.Keys {
		runs[k.Key] = k.Count
	}
	fmt.Printf("%6s  %s\n", "runs", "documented close point")
	for _, k := range sw.Reachable {
		mark := ""
		if runs[k] == 0 {
			mark = "   <- missed"
		}
		fmt.Printf("%6d  %s%s\n", runs[k], k, mark)
	}
	fmt.Printf("%6s  %s\n", "runs", "yields before the close (K)")
	for _, b := range coverage.KBuckets() {
		fmt.Printf("%6d  %s\n", runs[coverage.KPrefix+b], b)
	}
}
