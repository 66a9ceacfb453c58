package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/closesim/closesim/coverage"
	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/report"
	"github.com/closesim/closesim/scenarios"
)

func cmdReplay(args []string) error {
	fs := newFlags("replay", "replay [-pkg PKG -test TEST] (-seed N | FILE)\n\nReplays one generated seed, or a scenario JSON file or Go fuzz corpus file, and prints\nits scenario, trace, final states and outcome.")
	seed := fs.Int64("seed", -1, "the generated seed to replay")
	repeat := fs.Int("repeat", 1, "replay K times and report how many distinct order-only traces they gave")
	tg := addTargetFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *repeat < 1 {
		return usagef("-repeat must be >= 1, got %d", *repeat)
	}
	in, err := inputFlags(*seed, fs.Args())
	if err != nil {
		return err
	}
	return withBinary(*tg, nil, func(bin string) error {
		return runTest(bin, tg.test, append(in, fmt.Sprintf("-closesim.repeat=%d", *repeat)))
	})
}

func cmdShrink(args []string) error {
	fs := newFlags("shrink", "shrink [-pkg PKG -test TEST] [-out FILE] [-replays R] (-seed N | FILE)\n\nShrinks a failing seed or scenario file to a minimal scenario that still fails the same way\nin a majority of R replays, writes it as JSON and prints what was removed.")
	seed := fs.Int64("seed", -1, "the generated seed to shrink")
	out := fs.String("out", "shrunk.json", "where to write the minimal scenario")
	replays := fs.Int("replays", 3, "replays per candidate")
	tg := addTargetFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *replays < 1 {
		return usagef("-replays must be >= 1, got %d", *replays)
	}
	in, err := inputFlags(*seed, fs.Args())
	if err != nil {
		return err
	}
	abs, err := absPath(*out)
	if err != nil {
		return err
	}
	return withBinary(*tg, nil, func(bin string) error {
		return runTest(bin, tg.test, append(in, "-closesim.shrink", "-closesim.out="+abs, fmt.Sprintf("-closesim.replays=%d", *replays)))
	})
}

func cmdList(args []string) error {
	fs := newFlags("list", "list\n\nLists the close phases, step kinds, invariants and profiles.")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	fmt.Println("close phases:")
	for _, p := range scenarios.Phases() {
		fmt.Printf("  %s\n", p)
	}
	fmt.Println("\nstep kinds:")
	for _, k := range scenarios.Kinds() {
		fmt.Printf("  %s\n", k)
	}
	fmt.Println("\ninvariants (profiles):")
	for _, inv := range invariants.All() {
		fmt.Printf("  %-34s %-10v %s\n      ref: %s\n", inv.ID, inv.Profiles, inv.Rule, inv.Ref)
	}
	fmt.Println("\nprofiles: pion (default: Pion's documented behaviour), w3c (the W3C close algorithm to the letter)")
	return nil
}

func cmdReport(args []string) error {
	if len(args) == 0 || args[0] != "merge" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(os.Stderr, "usage: closesim report merge [-out DIR] DIR...")
			return errHelp
		}
		return usagef("usage: closesim report merge [-out DIR] DIR...")
	}
	fs := newFlags("report merge", "report merge [-out DIR] DIR...\n\nMerges the reports of sweep shards (each DIR written by closesim run -out) into one report;\nthe teardown coverage of shards swept with -cover is merged too.")
	out := fs.String("out", "merged", "where to write the merged report")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("give at least one report directory")
	}
	sw, err := report.Merge(fs.Args())
	if err != nil {
		return usagef("%v", err)
	}
	sw.Reachable = coverage.Reachable()
	// Shards swept with -cover: merge their counters and measure again.
	var covdirs []string
	for _, d := range fs.Args() {
		if _, err := os.Stat(filepath.Join(d, coverDataDir)); err == nil {
			covdirs = append(covdirs, filepath.Join(d, coverDataDir))
		}
	}
	if len(covdirs) > 0 {
		if sw.Teardown, err = teardownCoverage(*out, covdirs); err != nil {
			return fmt.Errorf("merge teardown coverage: %w", err)
		}
	}
	if err := report.Write(*out, sw); err != nil {
		return err
	}
	failed := printSummary(sw, false)
	fmt.Printf("merged %d shard(s) into %s\n", fs.NArg(), *out)
	if failed > 0 {
		return errFailures
	}
	return nil
}
