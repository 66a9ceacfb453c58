// Package report turns the results of a closesim sweep into files for CI:
// the raw results, a versioned JSON summary, JUnit XML, a Markdown step
// summary and, per failure, a folder with everything needed to understand
// and replay it, including an HTML timeline.
//
// A worker reports one Result per scenario; WriteResults and ReadResults
// move them as JSON lines. Write(dir, sweep) writes a report directory:
//
//	results.jsonl              one Result per line (WriteResults)
//	sweep.json                 the sweep's Header: name, start, wall time, workers, shard, profile, Pion version, result count
//	summary.json               the Summary (schema below)
//	junit.xml                  JUnit XML in gotestsum's shape (JUnit)
//	summary.md                 Markdown for $GITHUB_STEP_SUMMARY, at most MaxMarkdown bytes (WriteMarkdown)
//	failures/seed-<N>/         per failed result:
//	    scenario.json          the scenario (replay it with -closesim.file=)
//	    shrunk.json            the shrunk scenario, when there is one
//	    trace.txt              the trace, facts.Text(events)
//	    verdict.json           the invariants.Verdict
//	    timeline.html          the HTML timeline (WriteTimeline)
//
// Merge reads several such directories (shards of one sweep) back into one
// Sweep, deduplicating by seed.
//
// # Pass, known and fail
//
// Every result has a Status. It fails when its verdict has a failed
// violation, when its outcome is "error" (the harness could not build the
// world), or when its outcome is not "ok" and no known issue covers it (a
// wedge, leak, panic or crash the verdict does not label known). Otherwise
// it is known when its verdict has a known violation, and passes when it has
// none. Known results are never failures: junit.xml marks them <skipped
// message="known: ..."> with the details in <system-out>, and summary.md and
// summary.json count them apart.
//
// # summary.json, schema "closesim.summary" version 1
//
// The version changes when a field is removed or changes meaning; new fields
// may appear within a version. Durations are seconds (float) unless a name
// says otherwise; "wall" in the sweep object is nanoseconds, as in sweep.json.
//
//	{
//	  "schema": "closesim.summary",          // always this string
//	  "version": 1,
//	  "sweep": {                             // the Header, as in sweep.json
//	    "version": 1, "name": "...", "started": "RFC 3339 time",
//	    "wall": 1234000000, "wall_seconds": 1.234,
//	    "workers": 4, "shard": "1/2" or "", "profile": "pion",
//	    "pion_version": "github.com/pion/webrtc/v4 v4.2.26", "results": 200
//	  },
//	  "total": 200,                          // number of results
//	  "outcomes": [{"outcome": "ok", "count": 190}, ...],
//	                                         // ok, leak, deadlock, wedge, panic, error, crash always (0 if none),
//	                                         // then any other outcome seen, by name
//	  "verdicts": {"pass": 180, "known": 12, "fail": 8},   // results per Status; sums to total
//	  "invariants": [                        // every invariant ID seen in any verdict, by ID
//	    {"id": "harness.no-wedge", "pass": 195, "known": 3, "fail": 2}
//	                                         // pass: results listing it in verdict.pass; known/fail: results with
//	                                         // at least one known/failed violation of it (a result may count in both)
//	  ],
//	  "known_issues": [                      // per known issue: results it covered, most first
//	    {"id": "F1", "invariant": "harness.no-wedge", "link": "https://...", "note": "...", "count": 3}
//	  ],
//	  "rates": {
//	    "scenarios_per_second": 57.1,        // total / sweep wall time (0 when unknown)
//	    "run_wall_seconds": 6.1,             // sum of the results' wall times
//	    "mean_run_ms": 30.5,                 // run_wall_seconds per result, in ms
//	    "virtual_seconds": 8014.0,           // sum of the results' virtual times
//	    "virtual_per_wall": 1313.8           // virtual_seconds / run_wall_seconds
//	  },
//	  "time": {                              // where the workers' wall time went
//	    "running_seconds": 0.66, "runs": 195, // runs that did not wedge
//	    "wedged_seconds": 0.04, "wedged": 5,  // wedged runs (wedge, deadlock)
//	    "wedged_median_ms": 7.0, "wedged_max_ms": 15.0,
//	    "wedged_share": 0.05,                // wedged_seconds / all four parts
//	    "worker_start_seconds": 0.4, "worker_starts": 7,
//	    "shrinking_seconds": 0, "shrinks": 0,
//	    "after_wedge_median_ms": 2.9, "after_wedge_runs": 5, // runs right after a wedge
//	    "other_median_ms": 2.6               // the other runs that did not wedge
//	  },
//	  "coverage": {
//	    "distinct": 37,                      // distinct close-point keys hit
//	    "keys": [{"key": "...", "count": 12}]// results that hit each key (once per result), most first, then by key
//	  },
//	  "failures": [                          // every failed result, by seed
//	    {"seed": 377, "scenario": "gen-377/close-mid_transfer-both-close", "outcome": "wedge",
//	     "invariants": ["harness.no-wedge"], // failed invariant IDs; "outcome.<outcome>" when only the outcome failed
//	     "message": "[harness.no-wedge] ...",// the first failed violation ("and N more"), or the outcome and diagnosis headline
//	     "repro": "go test ./fuzz -run '^TestReplay$' -v -count=1 -closesim.seed=377",
//	     "dir": "failures/seed-377"}         // the failure's folder, relative to the report directory
//	  ]
//	}
//
// SCHEMA.md in this directory has the same description.
//
// # junit.xml
//
// One <testsuites> with one <testsuite name="closesim"> (tests, failures,
// errors, skipped, time, timestamp and closesim.* properties) and one
// <testcase classname="closesim/<phase>" name="seed-<N> <scenario name>"
// time="<wall seconds>"> per result, where <phase> is the close phase of a
// generated scenario or the prefix of its name. A failed result has
// <failure message="..." type="<first failed invariant ID>"> whose body lists
// each failed violation with its evidence, the diagnosis headline and the
// repro line; a result with outcome "error" gets <error> of the same form.
package report
