package suite

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/closesim/closesim/internal/browser"
	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

// DefaultBrowserScenarios is the number of scenarios Browser runs when
// neither -closesim.browser.n nor BrowserConfig.Scenarios gives one.
const DefaultBrowserScenarios = 4

// BrowserConfig says what a browser suite test runs (Browser).
type BrowserConfig struct {
	// Peer builds the Pion side of every run: the user's service, built
	// as the service builds its PeerConnections (sim.WithBrowserPeer); nil
	// is closesim's own peer.
	Peer sim.BrowserPeerFactory
	// Scenarios is the number of scenarios when -closesim.browser.n is not
	// given (0: DefaultBrowserScenarios).
	Scenarios int
}

// Browser runs generated browser scenarios (scenarios.GenerateBrowser of
// seeds -closesim.browser.seed..., or the one scenario of
// -closesim.browser.file) between the Pion side (c.Peer, or
// closesim's own) on loopback UDP and headless Chromium, each
// -closesim.browser.repeat times, observing both sides for
// -closesim.browser.window after each close; closesim browser -pkg -test
// drives it and writes browser.md. Real time against a real browser, so
// not deterministic: t fails only for harness errors (a step that could
// not run, the service's factory failing), each with its repro line; what
// the runs found is browser.md's to judge. With -closesim.browser.out,
// each run is appended to that file as a JSON line (facts.BrowserRun) as
// it finishes. It skips, saying why, under -short and without Chromium.
func Browser(t *testing.T, c BrowserConfig) {
	t.Helper()
	if testing.Short() {
		t.Skip("drives Chromium in real time")
	}
	set := readBrowserSettings()
	n := set.n
	switch {
	case n == 0 && c.Scenarios > 0:
		n = c.Scenarios
	case n == 0:
		n = DefaultBrowserScenarios
	}
	var opts []sim.BrowserOption
	if c.Peer != nil {
		opts = append(opts, sim.WithBrowserPeer(c.Peer))
	}
	b := browser.ForTest(t)
	var out *os.File
	if set.out != "" {
		var err error
		if out, err = os.OpenFile(set.out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
			t.Fatalf("closesim: %v", err)
		}
		defer out.Close()
	}
	tg := targetOf(t)
	scenario := func(k uint64) scenarios.BrowserScenario { return scenarios.GenerateBrowser(set.seed + k) }
	if set.file != "" {
		sc, err := scenarios.ReadBrowserFile(set.file)
		if err != nil {
			t.Fatalf("closesim: %v", err)
		}
		n, scenario = 1, func(uint64) scenarios.BrowserScenario { return sc }
	}
	start := time.Now()
	for k := range uint64(n) {
		sc := scenario(k)
		for rep := range set.repeat {
			r := sim.RunBrowser(b, sc, rep, set.window, opts...)
			if r.Err != "" {
				t.Errorf("seed %d %s rep %d: %s\nrepro: %s", sc.Seed, sc.Name(), rep, r.Err, tg.browserRepro(sc.Seed, set.file))
			}
			if out != nil {
				line, err := json.Marshal(r)
				if err != nil {
					t.Fatalf("closesim: %v", err)
				}
				if _, err := fmt.Fprintf(out, "%s\n", line); err != nil {
					t.Fatalf("closesim: %v", err)
				}
			}
			other := r.Pion
			if sc.Closer == "pion" {
				other = r.Browser
			}
			what := fmt.Sprintf("other side noticed %s by %q", other.Noticed, other.NoticedBy)
			if r.Wedge != nil {
				what = "wedged: " + r.Wedge.Headline
			}
			fmt.Printf("closesim-browser %d/%d seed %d %s rep %d: %s (%s)\n",
				int(k)*set.repeat+rep+1, n*set.repeat, sc.Seed, sc.Name(), rep, what, time.Since(start).Round(time.Second))
		}
	}
}

// browserSettings are the -closesim.browser.* flags' values.
type browserSettings struct {
	n, repeat int
	seed      uint64
	window    time.Duration
	out, file string
}

func readBrowserSettings() browserSettings {
	return browserSettings{n: *flagBrowserN, repeat: max(*flagBrowserRepeat, 1), seed: *flagBrowserSeed, window: *flagBrowserWindow, out: *flagBrowserOut, file: *flagBrowserFile}
}
