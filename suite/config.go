package suite

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim"
	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

// DefaultSeeds is the size of a sweep when neither -closesim.seeds nor
// Config.Seeds gives one.
const DefaultSeeds = 20

// Config says what a suite test runs.
type Config struct {
	// Peers plugs the user's code in as peer A or B (sim.WithPeer); a peer
	// not in the map is closesim's own. Each factory is called once per
	// run, inside the run's bubble: build a fresh service there (or reset a
	// shared one) so that runs share nothing. Generated scenarios have A
	// create data channel "dc" and offer, so a service that answers plugs
	// in as B. Steps that act on the user's peer through closesim's own
	// objects (a send on a channel the service took over) fail harmlessly,
	// their errors recorded in the trace; steps that add or remove tracks
	// on it act on the user's PeerConnection, so a Generate that drops them
	// keeps the service's connection the service's own (see
	// examples/echo).
	Peers map[scenarios.Peer]sim.PeerFactory
	// Options are passed to every sim.Run after the suite's own (the
	// watchdog of -closesim.watchdog and the peers), so they override them.
	Options []sim.Option
	// Invariants are judged besides closesim's own (invariants.JudgeWith),
	// typically rules about the service's state through
	// facts.Observation.Reports and FinalReports. Those are nil when the run
	// never finished (a wedge or a panic, which closesim's own invariants
	// already fail), so a check should skip a missing key. One with no
	// Profiles holds under every profile.
	Invariants []invariants.Invariant
	// Generate returns the scenario of a seed; nil is scenarios.Generate. It
	// must depend on the seed alone (draw from a generator seeded with it),
	// so that a seed replays.
	Generate func(seed uint64) scenarios.Scenario
	// Seeds is the number of scenarios a sweep runs when -closesim.seeds is
	// not given (0: DefaultSeeds). With -short a sweep runs a quarter of
	// it, at least one.
	Seeds int
	// set holds the -closesim.* flags, read once by the entry point that
	// received this Config (see ready).
	set *settings
}

// generate returns the scenario of seed.
// ready returns c with the -closesim.* flags read, once: every entry point
// (Run, Judge, Check, Shrink, Fuzz) calls it, and what they call reads
// c.set, never a flag.
func (c Config) ready() Config {
	if c.set == nil {
		c.set = readSettings()
	}
	return c
}

// flags returns the settings c was made ready with (or, for a Config an
// entry point did not prepare, the flags as they are now).
func (c Config) flags() *settings {
	if c.set == nil {
		return readSettings()
	}
	return c.set
}

func (c Config) generate(seed uint64) scenarios.Scenario {
	if c.Generate != nil {
		return c.Generate(seed)
	}
	return scenarios.Generate(seed)
}

// seeds returns the size of a sweep.
func (c Config) seeds() int {
	if c.flags().seeds > 0 {
		return c.flags().seeds
	}
	n := c.Seeds
	if n <= 0 {
		n = DefaultSeeds
	}
	if testing.Short() {
		n = max(1, n/4)
	}
	return n
}

// options returns the sim options of every run, extra last.
func (c Config) options(extra ...sim.Option) []sim.Option {
	opts := []sim.Option{sim.WithWatchdog(c.flags().watchdog), sim.WithFreezeDetection(c.flags().freeze)}
	// A peer other than A or B is passed on too: sim.Run rejects it.
	for _, p := range slices.Sorted(maps.Keys(c.Peers)) {
		if f := c.Peers[p]; f != nil {
			opts = append(opts, sim.WithPeer(p, f))
		}
	}
	opts = append(opts, c.Options...)
	return append(opts, extra...)
}

// judgement is the profile and known issues the flags select.
type judgement struct {
	profile invariants.Profile
	known   []invariants.KnownIssue
}

var (
	judgementMu    sync.Mutex
	judgementCache = map[[3]string]judgement{}
)

// judgeConfig returns the profile of -closesim.profile and the known issues
// of -closesim.known, read once per flag value.
func judgeConfig(set *settings, extra []invariants.Invariant) (judgement, error) {
	ids := make([]string, len(extra))
	for i, inv := range extra {
		ids[i] = inv.ID
	}
	key := [3]string{set.profile, set.known, strings.Join(ids, ",")}
	opt := invariants.WithInvariants(extra...)
	judgementMu.Lock()
	defer judgementMu.Unlock()
	if j, ok := judgementCache[key]; ok {
		return j, nil
	}
	profile, err := invariants.ParseProfile(set.profile)
	if err != nil {
		return judgement{}, fmt.Errorf("-closesim.profile: %w", err)
	}
	j := judgement{profile: profile}
	switch path := set.known; path {
	case "":
	case "auto":
		if j.known, err = autoKnown(opt, profile); err != nil {
			return judgement{}, fmt.Errorf("-closesim.known=auto: %w", err)
		}
	default:
		if j.known, err = invariants.LoadKnownFiles(strings.Split(path, ","), opt, releaseOpt()); err != nil {
			return judgement{}, fmt.Errorf("-closesim.known: %w", err)
		}
	}
	judgementCache[key] = j
	return j, nil
}

// releaseOpt keeps the known issues that apply to the pion/webrtc release
// under test (KnownIssue.Releases).
func releaseOpt() invariants.KnownOption {
	v, _, _ := strings.Cut(pionRelease(), " ")
	return invariants.ForRelease(v)
}

// autoKnown is known-issues.json at the module root, if there is one, then
// the issues closesim ships whose IDs that file does not use; under the
// w3c profile, then the same for deviations-w3c.json.
func autoKnown(opt invariants.KnownOption, p invariants.Profile) ([]invariants.KnownIssue, error) {
	out, err := autoFile(opt, "known-issues.json", closesim.KnownIssues())
	if err != nil || p != invariants.W3C {
		return out, err
	}
	dev, err := autoFile(opt, "deviations-w3c.json", closesim.W3CDeviations())
	return append(out, dev...), err
}

// autoFile is the module root's file name, if there is one, then the
// entries of shippedData whose IDs that file does not use.
func autoFile(opt invariants.KnownOption, name string, shippedData []byte) ([]invariants.KnownIssue, error) {
	shipped, err := invariants.ParseKnown(shippedData, releaseOpt())
	if err != nil {
		return nil, fmt.Errorf("closesim's own %s: %w", name, err)
	}
	path := moduleFile(name)
	if path == "" {
		return shipped, nil
	}
	local, err := invariants.LoadKnown(path, opt, releaseOpt())
	if err != nil {
		return nil, err
	}
	for _, k := range shipped {
		if !slices.ContainsFunc(local, func(l invariants.KnownIssue) bool { return l.ID == k.ID }) {
			local = append(local, k)
		}
	}
	return local, nil
}

// moduleFile returns name in the nearest directory at or above the working
// directory that holds a go.mod, or "" if that directory has no such file
// (the test binary runs in its package directory under go test and, driven
// by the closesim CLI, wherever the CLI runs).
func moduleFile(name string) string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, name)
			if _, err := os.Stat(p); err == nil {
				return p
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// judge judges obs with the flags' profile and known issues and c's
// invariants.
func (c Config) judge(obs *facts.Observation) (invariants.Verdict, error) {
	j, err := judgeConfig(c.flags(), c.Invariants)
	if err != nil {
		return invariants.Verdict{}, err
	}
	return invariants.JudgeWith(obs, j.profile, j.known, c.Invariants), nil
}

// failedIDs lists the distinct IDs of v's failed invariants, in order.
func failedIDs(v invariants.Verdict) []string {
	var ids []string
	for _, f := range v.Fail {
		if !slices.Contains(ids, f.Invariant) {
			ids = append(ids, f.Invariant)
		}
	}
	return ids
}
