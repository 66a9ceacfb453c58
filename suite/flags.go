package suite

import (
	"flag"
	"time"

	"github.com/closesim/closesim/sim"
)

// The -closesim.* flags. A flag can be registered once per binary, so
// every closesim test entry point reads these.
var (
	flagSeeds          = flag.Int("closesim.seeds", 0, "sweep: number of generated scenarios (0: the test's default, 20 unless Config.Seeds says otherwise; a quarter of it with -short)")
	flagStart          = flag.Uint64("closesim.start", 0, "sweep: first seed")
	flagSeed           = flag.Int64("closesim.seed", -1, "replay (or, with -closesim.shrink, shrink) the generated scenario of this seed")
	flagFile           = flag.String("closesim.file", "", "replay (or shrink) a scenario JSON file or a Go fuzz corpus file (go test fuzz v1)")
	flagRepeat         = flag.Int("closesim.repeat", 1, "replay: replay K times and report how many distinct order-only traces they gave")
	flagShrink         = flag.Bool("closesim.shrink", false, "shrink the scenario of -closesim.seed or -closesim.file and write the minimal one to -closesim.out")
	flagOut            = flag.String("closesim.out", "", "sweep: write a report directory (summary.json, junit.xml, summary.md, results.jsonl, failures/); shrink: the file for the minimal scenario (default shrunk.json)")
	flagReplays        = flag.Int("closesim.replays", 3, "shrink: replays per candidate; a candidate still fails if the same failure shows in a majority")
	flagRecheck        = flag.Int("closesim.recheck", 20, "sweep: re-run every Nth seed and report order-only trace divergence (0: never)")
	flagRealTime       = flag.Duration("closesim.realtime", 5*time.Second, "wall-clock bound of the real-time recheck of a wedge")
	flagWatchdog       = flag.Duration("closesim.watchdog", sim.DefaultWatchdog, "wall-clock bound of one scenario before it is declared wedged")
	flagFreeze         = flag.Bool("closesim.freeze", true, "declare a run wedged as soon as its bubble is provably frozen (false: only the -closesim.watchdog wall-clock bound does)")
	flagWorker         = flag.Bool("closesim.worker", false, "worker mode, driven by closesim run: read seeds from stdin, write one result line per seed")
	flagShrinkFailures = flag.Bool("closesim.shrinkfailures", true, "worker and sweep: shrink failing scenarios (a sweep shrinks the first failure of each invariant)")
	flagShrinkBudget   = flag.Duration("closesim.shrinkbudget", time.Minute, "worker and sweep: wall-clock budget of each automatic shrink (0: none); the smallest failing scenario found by then is kept")
	flagProfile        = flag.String("closesim.profile", "pion", "invariant profile: pion or w3c")
	flagBrowserN       = flag.Int("closesim.browser.n", 0, "Browser: scenarios (scenarios.GenerateBrowser of seeds -closesim.browser.seed...; 0: the test's default, 4 unless BrowserConfig.Scenarios says otherwise)")
	flagBrowserSeed    = flag.Uint64("closesim.browser.seed", 0, "Browser: first seed")
	flagBrowserRepeat  = flag.Int("closesim.browser.repeat", 1, "Browser: runs of each scenario")
	flagBrowserWindow  = flag.Duration("closesim.browser.window", sim.BrowserWindow, "Browser: observation time after each close")
	flagBrowserOut     = flag.String("closesim.browser.out", "", "Browser: append each run as a JSON line to this file")
	flagBrowserFile    = flag.String("closesim.browser.file", "", "Browser: run this browser scenario file (scenarios.ReadBrowserFile) instead of generated ones")
	flagKnown          = flag.String("closesim.known", "auto", "known-issues JSON files, comma-separated (\"\" for none; auto: the issues closesim ships for its pinned Pion release plus known-issues.json at the module root, and under -closesim.profile=w3c deviations-w3c.json too)")
)

// settings are the -closesim.* flags' values, read once per entry point
// (readSettings) and passed down in Config, so that nothing below the entry
// points reads a flag.
type settings struct {
	seeds          int
	start          uint64
	seed           int64
	file           string
	repeat         int
	shrink         bool
	out            string
	replays        int
	recheck        int
	realTime       time.Duration
	watchdog       time.Duration
	freeze         bool
	worker         bool
	shrinkFailures bool
	shrinkBudget   time.Duration
	profile        string
	known          string
}

// readSettings reads the -closesim.* flags.
func readSettings() *settings {
	return &settings{
		seeds: *flagSeeds, start: *flagStart, seed: *flagSeed, file: *flagFile, repeat: *flagRepeat,
		shrink: *flagShrink, out: *flagOut, replays: *flagReplays, recheck: *flagRecheck,
		realTime: *flagRealTime, watchdog: *flagWatchdog, freeze: *flagFreeze, worker: *flagWorker,
		shrinkFailures: *flagShrinkFailures, shrinkBudget: *flagShrinkBudget, profile: *flagProfile, known: *flagKnown,
	}
}

// mode is the mode the settings select (see Selected).
func (s *settings) mode() Mode {
	switch {
	case s.worker:
		return ModeWorker
	case s.shrink:
		return ModeShrink
	case s.seed >= 0 || s.file != "":
		return ModeReplay
	}
	return ModeSweep
}

// Mode is what Run does; the -closesim.* flags choose it.
type Mode string

// Modes, in the order Selected checks for them.
const (
	// ModeWorker (-closesim.worker) serves closesim run: seeds on stdin,
	// one result line per seed on stdout.
	ModeWorker Mode = "worker"
	// ModeShrink (-closesim.shrink with -closesim.seed or -closesim.file)
	// shrinks a failing scenario and writes the minimal one.
	ModeShrink Mode = "shrink"
	// ModeReplay (-closesim.seed or -closesim.file) runs one scenario and
	// prints its scenario, trace, final states and verdict.
	ModeReplay Mode = "replay"
	// ModeSweep (no mode flag) runs -closesim.seeds generated scenarios.
	ModeSweep Mode = "sweep"
)

// Selected returns the mode the -closesim.* flags select. A package with
// several suite tests can use it to run only one of them per mode.
func Selected() Mode { return readSettings().mode() }
