package fuzz

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/closesim/closesim/internal/browser"
	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

var (
	browserN      = flag.Int("closesim.browser.n", 4, "TestBrowserSweep: scenarios (scenarios.GenerateBrowser of seeds -closesim.browser.seed...)")
	browserSeed   = flag.Uint64("closesim.browser.seed", 0, "TestBrowserSweep: first seed")
	browserRepeat = flag.Int("closesim.browser.repeat", 1, "TestBrowserSweep: runs of each scenario")
	browserWindow = flag.Duration("closesim.browser.window", sim.BrowserWindow, "TestBrowserSweep: observation time after each close")
	browserOut    = flag.String("closesim.browser.out", "", "TestBrowserSweep: append each run as a JSON line to this file")
)

// TestBrowserSweep runs generated browser scenarios between a Pion peer and
// headless Chromium (closesim browser drives it). Real time against a real
// browser: it checks only what every run must give (no harness error, the
// closer's close returned, the other side observed), and skips without
// Chromium.
func TestBrowserSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("drives Chromium in real time")
	}
	b := browser.ForTest(t)
	var out *os.File
	var err error
	if *browserOut != "" {
		if out, err = os.OpenFile(*browserOut, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
			t.Fatal(err)
		}
		defer out.Close()
	}
	start := time.Now()
	for k := range uint64(*browserN) {
		sc := scenarios.GenerateBrowser(*browserSeed + k)
		for rep := range *browserRepeat {
			r := sim.RunBrowser(b, sc, rep, *browserWindow)
			if r.Err != "" {
				t.Errorf("seed %d %s rep %d: %s\nrepro: closesim browser -n 1 -seed %d -repeat 3", sc.Seed, sc.Name(), rep, r.Err, sc.Seed)
			}
			if out != nil {
				line, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := fmt.Fprintf(out, "%s\n", line); err != nil {
					t.Fatal(err)
				}
			}
			other := r.Pion
			if sc.Closer == "pion" {
				other = r.Browser
			}
			fmt.Printf("closesim-browser %d/%d seed %d %s rep %d: other side noticed %s by %q (%s)\n",
				int(k)*(*browserRepeat)+rep+1, *browserN*(*browserRepeat), sc.Seed, sc.Name(), rep, other.Noticed, other.NoticedBy, time.Since(start).Round(time.Second))
		}
	}
}
