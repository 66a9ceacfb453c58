package sim

import (
	"testing"

	"github.com/closesim/closesim/internal/browser"
	"github.com/closesim/closesim/scenarios"
)

// TestBrowserRun: Pion and Chromium connect over loopback, and whichever
// closes, the other side's record shows it (real time: the facts checked
// are those every run must give).
func TestBrowserRun(t *testing.T) {
	if testing.Short() {
		t.Skip("drives Chromium in real time")
	}
	b := browser.ForTest(t)
	for _, sc := range []scenarios.BrowserScenario{
		{Seed: 1, Offerer: "pion", Phase: "connected", Closer: "pion", Mode: "close"},
		{Seed: 2, Offerer: "browser", Phase: "mid_transfer", Closer: "browser", Mode: "close", Messages: 5},
	} {
		t.Run(sc.Name(), func(t *testing.T) {
			r := RunBrowser(b, sc, 0, BrowserWindow)
			if r.Err != "" {
				t.Fatal(r.Err)
			}
			closer, other := r.Pion, r.Browser
			if sc.Closer == "browser" {
				closer, other = r.Browser, r.Pion
			}
			if other.Final == nil || closer.Final == nil && sc.Closer == "pion" {
				t.Fatalf("no final states: %+v", r)
			}
			if other.Noticed < 0 {
				t.Errorf("the %s side did not notice the close within %s: %+v", map[bool]string{true: "browser", false: "pion"}[sc.Closer == "pion"], BrowserWindow, other.Events)
			}
			if sc.Closer == "pion" && (r.Pion.AtReturn == nil || r.Pion.AtReturn.Connection != "closed") {
				t.Errorf("Pion's connection at its close's return: %+v", r.Pion.AtReturn)
			}
			if sc.Closer == "browser" && (r.Browser.AtReturn == nil || r.Browser.AtReturn.Connection != "closed" || r.Browser.AtReturn.Signaling != "closed") {
				t.Errorf("Chromium's states at its close's return: %+v", r.Browser.AtReturn)
			}
			t.Logf("noticed after %s by %s", other.Noticed, other.NoticedBy)
		})
	}
}
