package sim

import (
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/closesim/closesim/facts"
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
			if sc.Closer == "pion" && len(r.Browser.Stats) == 0 {
				t.Errorf("the page (not closed) read no getStats transport entry at the end")
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

// TestBrowserModes: a close from inside each side's handler closes there
// (the close call recorded between the handler's event and the end), a
// channel close closes only the channel (the other side's channel closes,
// its connection stays up), stopping transceivers first leaves the close's
// Before with them stopped, and a user's factory builds the Pion side.
func TestBrowserModes(t *testing.T) {
	if testing.Short() {
		t.Skip("drives Chromium in real time")
	}
	b := browser.ForTest(t)
	var built int
	service := func(env *BrowserPeerEnv) (*webrtc.PeerConnection, error) {
		built++
		return env.NewPeerConnection(nil)
	}
	for _, tt := range []struct {
		sc   scenarios.BrowserScenario
		opts []BrowserOption
		// check the run beyond what every run gives.
		check func(t *testing.T, r facts.BrowserRun)
	}{
		{sc: scenarios.BrowserScenario{Seed: 1, Offerer: "pion", Phase: "on_connection_state_connected", Closer: "pion", Mode: "callback", On: "connection_state:connected"},
			check: func(t *testing.T, r facts.BrowserRun) {
				if r.Pion.AtReturn == nil || r.Pion.Before == nil || r.Pion.Before.Connection != "connected" {
					t.Errorf("Pion's close in its connected handler: before %+v, at return %+v", r.Pion.Before, r.Pion.AtReturn)
				}
			}},
		{sc: scenarios.BrowserScenario{Seed: 2, Offerer: "browser", Phase: "on_dc_open", Closer: "browser", Mode: "callback", On: "dc_open"},
			check: func(t *testing.T, r facts.BrowserRun) {
				if r.Browser.AtReturn == nil || r.Browser.AtReturn.Signaling != "closed" {
					t.Errorf("Chromium's close in its dc open handler: at return %+v", r.Browser.AtReturn)
				}
				if i := eventIndex(r.Browser.Events, "dc open"); i < 0 || i > eventIndex(r.Browser.Events, "close call") {
					t.Errorf("the page's close did not run in its dc open handler: %+v", r.Browser.Events)
				}
			}},
		{sc: scenarios.BrowserScenario{Seed: 3, Offerer: "pion", Phase: "connected", Closer: "browser", Mode: "channel"},
			check: func(t *testing.T, r facts.BrowserRun) {
				if r.Pion.Final == nil || r.Pion.Final.Connection != "connected" || r.Pion.NoticedBy != "dc close dc" {
					t.Errorf("after Chromium closed only its channel, Pion: noticed by %q, final %+v", r.Pion.NoticedBy, r.Pion.Final)
				}
			}},
		{sc: scenarios.BrowserScenario{Seed: 4, Offerer: "browser", Phase: "connected", Closer: "pion", Mode: "close", Audio: true, StopFirst: true},
			opts: []BrowserOption{WithBrowserPeer(service)},
			check: func(t *testing.T, r facts.BrowserRun) {
				if !r.PionUser || built != 1 {
					t.Errorf("the service's factory: PionUser %v, built %d times; want true, 1", r.PionUser, built)
				}
				if r.Pion.Before == nil || len(r.Pion.Before.Transceivers) != 1 || r.Pion.Before.Transceivers[0].Direction != "inactive" {
					t.Errorf("Pion stopped its transceiver before the close, but before the close: %+v", r.Pion.Before)
				}
			}},
	} {
		t.Run(tt.sc.Name(), func(t *testing.T) {
			r := RunBrowser(b, tt.sc, 0, BrowserWindow, tt.opts...)
			if r.Err != "" || r.Wedge != nil {
				t.Fatalf("err %q, wedge %+v", r.Err, r.Wedge)
			}
			if r.Window < BrowserWindow {
				t.Errorf("observed for %s after the close, want at least %s", r.Window, BrowserWindow)
			}
			tt.check(t, r)
		})
	}
}

func eventIndex(evs []facts.BrowserEvent, kind string) int {
	for i, e := range evs {
		if e.Kind == kind {
			return i
		}
	}
	return -1
}
