package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/closesim/closesim/report"
)

// runFile, in a report directory, records the sweep's configuration so
// that closesim run -resume can continue it.
const runFile = "run.json"

// savedRun is what -resume needs of a sweep's configuration.
type savedRun struct {
	Seed     uint64        `json:"seed"`
	N        int           `json:"n"`
	ShardI   int           `json:"shard_i"`
	ShardN   int           `json:"shard_n"`
	Profile  string        `json:"profile"`
	Known    string        `json:"known"`
	Pkg      string        `json:"pkg"`
	Test     string        `json:"test"`
	Timeout  time.Duration `json:"timeout"`
	Watchdog time.Duration `json:"watchdog"`
	NoFreeze bool          `json:"no_freeze"`
	Shrink   bool          `json:"shrink"`
	Cover    bool          `json:"cover"`
}

func (c runConfig) saved() savedRun {
	return savedRun{Seed: c.seed, N: c.n, ShardI: c.shardI, ShardN: c.shardN, Profile: c.profile, Known: c.known,
		Pkg: c.target.pkg, Test: c.target.test, Timeout: c.timeout, Watchdog: c.watchdog, NoFreeze: c.noFreeze,
		Shrink: c.shrink, Cover: c.cover}
}

// writeRunFile records c in its report directory.
func writeRunFile(c runConfig) error {
	b, err := json.MarshalIndent(c.saved(), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.out, runFile), append(b, '\n'), 0o644)
}

// loadResume reads the sweep in dir that -resume continues: its
// configuration, applied to c (only -workers, -quiet and -coverage stay as
// given), and the results it had written, which c.prior then holds.
func loadResume(dir string, c *runConfig) error {
	b, err := os.ReadFile(filepath.Join(dir, runFile))
	if err != nil {
		return usagef("-resume %s: not a sweep closesim run can resume: %v", dir, err)
	}
	var s savedRun
	if err := json.Unmarshal(b, &s); err != nil {
		return usagef("-resume %s: %s: %v", dir, runFile, err)
	}
	if s.ShardN < 1 || s.N < 0 {
		return usagef("-resume %s: %s: bad shard %d/%d or -n %d", dir, runFile, s.ShardI, s.ShardN, s.N)
	}
	c.seed, c.n, c.duration, c.shardI, c.shardN = s.Seed, s.N, 0, s.ShardI, s.ShardN
	c.profile, c.known, c.target = s.Profile, s.Known, target{pkg: s.Pkg, test: s.Test}
	c.timeout, c.watchdog, c.noFreeze, c.shrink, c.cover = s.Timeout, s.Watchdog, s.NoFreeze, s.Shrink, s.Cover
	c.out = dir
	prior, err := readStreamedResults(filepath.Join(dir, report.ResultsFile))
	if err != nil {
		return usagef("-resume %s: %v", dir, err)
	}
	c.prior = prior
	return nil
}

// readStreamedResults reads the results a sweep streamed to path. A sweep
// killed outright (SIGKILL) may have left its last line half written: that
// line is dropped (its seed runs again); a bad line before it is an error.
func readStreamedResults(path string) ([]report.Result, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if i := bytes.LastIndexByte(data, '\n'); i < len(data)-1 {
		data = data[:i+1] // the half-written last line
	}
	out, err := report.ReadResults(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// stream appends each result to results.jsonl as it arrives, so that an
// interrupted (or killed) sweep loses nothing that finished. The final
// report rewrites the file sorted by seed.
type stream struct{ f *os.File }

func openStream(c runConfig) (*stream, error) {
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if c.prior != nil {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(filepath.Join(c.out, report.ResultsFile), flags, 0o644)
	if err != nil {
		return nil, err
	}
	return &stream{f: f}, nil
}

func (s *stream) add(r report.Result) error {
	var b bytes.Buffer
	if err := report.WriteResults(&b, []report.Result{r}); err != nil {
		return err
	}
	_, err := s.f.Write(b.Bytes())
	return err
}

func (s *stream) close() error { return s.f.Close() }
