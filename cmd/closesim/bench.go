package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/closesim/closesim/report"
)

// simPkg is the package whose BenchmarkVersusFloor closesim bench runs.
const simPkg = "github.com/closesim/closesim/sim"

func cmdBench(args []string) error {
	fs := newFlags("bench", "bench [-n N] [-iterations K]\n\nMeasures closesim against Pion alone on this machine, in one go: BenchmarkVersusFloor (Pion's\nown connect-data-close and closesim's run of the same scenario, alternately, K iterations) and a\none-worker sweep of N generated seeds, and prints each rate with its ratio to the floor.\nRun it on an otherwise idle machine.")
	n := fs.Int("n", 1000, "seeds of the one-worker sweep")
	iters := fs.Int("iterations", 1000, "iterations of BenchmarkVersusFloor")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case len(fs.Args()) > 0:
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	case *n < 1:
		return usagef("-n must be >= 1, got %d", *n)
	case *iters < 1:
		return usagef("-iterations must be >= 1, got %d", *iters)
	}
	dir, err := os.MkdirTemp("", "closesim-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintf(os.Stderr, "closesim bench: building the test binaries of %s and %s\n", simPkg, defaultPkg)
	simBin := filepath.Join(dir, "sim.test")
	if out, err := exec.Command("go", "test", "-c", "-o", simBin, simPkg).CombinedOutput(); err != nil {
		return fmt.Errorf("go test -c %s: %v: %s", simPkg, err, firstLine(string(out)))
	}
	fmt.Fprintf(os.Stderr, "closesim bench: BenchmarkVersusFloor, %d iterations\n", *iters)
	floor, err := versusFloor(simBin, dir, *iters)
	if err != nil {
		return err
	}

	fmt.Fprintf(os.Stderr, "closesim bench: a one-worker sweep of seeds 0..%d\n", *n-1)
	tg := target{pkg: defaultPkg, test: defaultTest}
	var sw report.Sweep
	err = withBinary(tg, nil, func(bin string) error {
		c := runConfig{n: *n, workers: 1, shardN: 1, profile: "pion", known: "auto", out: filepath.Join(dir, "out"),
			target: tg, timeout: time.Minute, watchdog: time.Second, noProgress: true}
		sw, err = collect(bin, c)
		return err
	})
	if err != nil {
		return err
	}
	sum := report.Summarize(sw)
	perWorker := float64(len(sw.Results)) / sw.Wall.Seconds()

	fmt.Printf("closesim bench (%s, GOMAXPROCS=1 in every run)\n", pionVersion())
	fmt.Printf("  %-48s %6.0f scenarios/s\n", "Pion alone, connect + 10 messages + close:", floor.floor)
	fmt.Printf("  %-48s %6.0f scenarios/s  %.2fx the floor\n", "closesim, the same scenario:", floor.sim, floor.ratio)
	fmt.Printf("  %-48s %6.0f scenarios/s  %.2fx the floor\n", fmt.Sprintf("closesim sweep, 1 worker, %d generated seeds:", *n), perWorker, perWorker/floor.floor)
	fmt.Printf("  sweep %s\n", sum.Time.Line())
	return nil
}

// floorRates are BenchmarkVersusFloor's metrics.
type floorRates struct{ floor, sim, ratio float64 }

// versusFloor runs BenchmarkVersusFloor for iters iterations and reads its
// metrics.
func versusFloor(bin, dir string, iters int) (floorRates, error) {
	cmd := exec.Command(bin, "-test.run=^$", "-test.bench=^BenchmarkVersusFloor$", fmt.Sprintf("-test.benchtime=%dx", iters))
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return floorRates{}, fmt.Errorf("BenchmarkVersusFloor: %v: %s", err, out.String())
	}
	metric := func(unit string) (float64, error) {
		m := regexp.MustCompile(`([0-9.]+) ` + regexp.QuoteMeta(unit) + `\b`).FindStringSubmatch(out.String())
		if m == nil {
			return 0, fmt.Errorf("BenchmarkVersusFloor printed no %s: %s", unit, out.String())
		}
		return strconv.ParseFloat(m[1], 64)
	}
	var r floorRates
	var err error
	if r.floor, err = metric("floor-scenarios/s"); err != nil {
		return r, err
	}
	if r.sim, err = metric("closesim-scenarios/s"); err != nil {
		return r, err
	}
	r.ratio, err = metric("ratio")
	return r, err
}
