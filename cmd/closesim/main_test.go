package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"

	"github.com/closesim/closesim/report"
)

func TestBadInputExitsTwo(t *testing.T) {
	known := filepath.Join(t.TempDir(), "known.json")
	if err := os.WriteFile(known, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{},
		{"explode"},
		{"run", "-workers", "0"},
		{"run", "-n", "-3"},
		{"run", "-shard", "4/4"},
		{"run", "-shard", "x"},
		{"run", "-profile", "strict"},
		{"run", "-known", known},
		{"run", "-known", "/does/not/exist.json"},
		{"run", "-bogus"},
		{"run", "extra"},
		{"replay"},
		{"replay", "-seed", "3", "file.json"},
		{"replay", "/does/not/exist.json"},
		{"shrink", "-replays", "0", "-seed", "1"},
		{"list", "extra"},
		{"report"},
		{"report", "merge"},
	} {
		if got := run(args); got != exitUsage {
			t.Errorf("closesim %v exited %d, want %d", args, got, exitUsage)
		}
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"run", "-h"}, {"replay", "-h"}, {"shrink", "-h"}, {"list", "-h"}, {"report", "merge", "-h"}} {
		if got := run(args); got != exitOK {
			t.Errorf("closesim %v exited %d, want 0", args, got)
		}
	}
}

// TestRunSurvivesAKilledWorker runs a real sweep through the test binary:
// the worker running seed 2 is killed mid-scenario; every other seed must
// still have its result and the killed one is reported as a crash.
func TestRunSurvivesAKilledWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the fuzz test binary")
	}
	out := t.TempDir()
	code := run([]string{"run", "-n", "6", "-workers", "2", "-kill-seed", "2", "-quiet", "-shrink=false", "-out", out})
	if code != exitFailures {
		t.Fatalf("exit %d, want %d (the killed worker is a failure)", code, exitFailures)
	}
	f, err := os.Open(filepath.Join(out, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs, err := report.ReadResults(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 6 {
		t.Fatalf("%d results, want 6", len(rs))
	}
	for _, r := range rs {
		if (r.Seed == 2) != (r.Outcome == "crash") {
			t.Errorf("seed %d: outcome %s", r.Seed, r.Outcome)
		}
		if r.Repro == "" {
			t.Errorf("seed %d has no repro line", r.Seed)
		}
	}
	var suites struct {
		XMLName xml.Name `xml:"testsuites"`
	}
	data, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	if err != nil || xml.Unmarshal(data, &suites) != nil {
		t.Fatalf("junit.xml missing or not XML: %v", err)
	}
	var summary report.Summary
	data, err = os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil || json.Unmarshal(data, &summary) != nil {
		t.Fatalf("summary.json missing or not JSON: %v", err)
	}
	if c := summary.Coverage; c.Reachable < 30 || c.Hit == 0 || c.Hit+len(c.Missing) != c.Reachable {
		t.Errorf("coverage not measured against the documented space: %+v", c)
	}
}
