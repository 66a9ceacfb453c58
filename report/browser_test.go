package report

import (
	"strings"
	"testing"
	"time"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/invariants"
)

func closed() *facts.PeerState {
	return &facts.PeerState{Signaling: "closed", Connection: "closed", ICEConnection: "closed", ICETransport: "closed", DTLS: "closed", SCTP: "closed",
		DataChannels: []facts.DCState{{Label: "dc", State: "closed"}}}
}

// TestWriteBrowserMarkdown: the report counts each row on the
// implementation that closed, labels a Pion value a finding explains as
// known, a failing Chromium row as the browser's deviation, and leaves a
// row nothing judged n/a.
func TestWriteBrowserMarkdown(t *testing.T) {
	pionNew := closed()
	pionNew.ICEConnection = "new" // F2
	chromeOpen := closed()
	chromeOpen.DataChannels[0].State = "open"
	opened := []facts.BrowserEvent{{At: -time.Second, Kind: "dc open", Detail: "dc"}, {At: 2 * time.Millisecond, Kind: "dc close", Detail: "dc"}}
	sw := BrowserSweep{Window: 2 * time.Second, Chromium: "Chromium 148", PionVersion: "pion/webrtc v4.2.26", Runs: []facts.BrowserRun{
		{Seed: 1, Name: "a", Phase: "connected", Closer: "pion", Mode: "close",
			Pion:    facts.BrowserSide{AtReturn: pionNew, Probes: map[string]string{"addIceCandidate": "no error", "createOffer": "InvalidStateError"}},
			Browser: facts.BrowserSide{Final: closed(), Events: opened, Noticed: 2 * time.Millisecond, NoticedBy: "dc close dc"}},
		{Seed: 2, Name: "b", Phase: "connected", Closer: "browser", Mode: "close",
			Browser: facts.BrowserSide{AtReturn: chromeOpen, Probes: map[string]string{"addIceCandidate": "InvalidStateError", "createOffer": "InvalidStateError"}},
			Pion:    facts.BrowserSide{Final: closed(), Events: opened, Noticed: 3 * time.Millisecond, NoticedBy: "sctp close"}},
		{Seed: 3, Name: "c", Phase: "connected", Closer: "browser", Mode: "tab", Pion: facts.BrowserSide{Noticed: -1}},
		{Seed: 4, Name: "d", Err: "browser: boom"},
	}}
	var b strings.Builder
	if err := WriteBrowserMarkdown(&b, sw); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	if strings.Contains(md, "Interrupted") {
		t.Errorf("an uninterrupted sweep says it was interrupted")
	}
	sw.Interrupted, sw.Planned = true, 9
	var bi strings.Builder
	_ = WriteBrowserMarkdown(&bi, sw)
	if !strings.Contains(bi.String(), "**Interrupted** after 4 of 9 runs") {
		t.Errorf("an interrupted sweep does not say so:\n%s", bi.String())
	}
	for _, want := range []string{
		"**Real time, not deterministic**",
		"4 runs (1 with a harness error)",
		"| `close.step10` | iceConnectionState closed | **fail** 1/1 (new) | pass 1/1 |",
		"| `close.step5` | data channels closed | pass 1/1 | **fail** 1/1 (open) |",
		"| `method.RTCPeerConnection.addIceCandidate` | addIceCandidate after close: InvalidStateError | **fail** 1/1 (no error) | pass 1/1 |",
		"| `method.RTCPeerConnection.setConfiguration` | setConfiguration after close: InvalidStateError | n/a | n/a |",
		"Pion fails 1 of 1 runs: new 1 (known Pion deviation F2, docs/findings.md)",
		"Pion fails 1 of 1 runs: no error 1 (known Pion deviation F7, docs/findings.md)",
		"Chromium fails 1 of 1 runs: open (browser deviation from the spec as the w3c profile reads it)",
		"| Chromium tab closed | connected | 1 | 0/1 | — | — | n/a |",
		"| Pion Close() | connected | 1 | 1/1 | 2ms | 2ms | dc close dc |",
		"- seed 4 d rep 0: browser: boom  \n  repro: `closesim browser -n 1 -seed 4 -repeat 3`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("browser.md lacks %q\n%s", want, md)
		}
	}
}

// TestBrowserJudges: the judges' sections split each run's verdict by
// implementation: a rule counts for the side it judged, a Pion violation a
// known issue matches is known, the same violation by Chromium is
// Chromium's failure (a Pion issue never labels the browser), and the
// leak rules a browser run cannot judge are n/a on both sides, never pass.
func TestBrowserJudges(t *testing.T) {
	known, err := invariants.LoadKnownFiles([]string{"../known-issues.json", "../deviations-w3c.json"}, invariants.ForRelease("v4.2.26"))
	if err != nil {
		t.Fatal(err)
	}
	connected := &facts.PeerState{Signaling: "stable", Connection: "connected", ICEConnection: "connected", ICETransport: "connected", DTLS: "connected", SCTP: "connected",
		DataChannels: []facts.DCState{{Label: "dc", State: "open"}}}
	closeEvents := []facts.BrowserEvent{{At: -time.Second, Kind: "dc open", Detail: "dc"}, {At: 0, Kind: "close call"}, {At: time.Millisecond, Kind: "close return"}}
	chromeOpen := closed()
	chromeOpen.DataChannels[0].State = "open"
	sw := BrowserSweep{Known: known, Runs: []facts.BrowserRun{
		{Seed: 1, Phase: "connected", Closer: "pion", Mode: "close", Window: 2 * time.Second,
			Pion: facts.BrowserSide{Before: connected, AtReturn: closed(), Final: closed(), Events: closeEvents,
				Probes: map[string]string{"addIceCandidate": "no error", "createOffer": "InvalidStateError"}},
			Browser: facts.BrowserSide{Final: closed()}},
		{Seed: 2, Phase: "connected", Closer: "browser", Mode: "close", Window: 2 * time.Second,
			Browser: facts.BrowserSide{Before: connected, AtReturn: chromeOpen, Final: closed(), Events: closeEvents,
				Probes: map[string]string{"addIceCandidate": "no error", "createOffer": "InvalidStateError"}},
			Pion: facts.BrowserSide{Final: closed()}},
		{Seed: 3, Name: "w", Phase: "on_dtls_state_connected", Closer: "pion", Mode: "callback", On: "dtls_state:connected",
			Pion: facts.BrowserSide{Events: []facts.BrowserEvent{{At: 0, Kind: "close call", Detail: "close"}}},
			Wedge: &facts.Wedge{Headline: "waits at DTLSTransport.Stop", Blocked: []facts.BlockedWait{{Lock: "sync.(*RWMutex).Lock",
				Waiter: []string{"github.com/pion/webrtc/v4.(*DTLSTransport).Stop", "github.com/pion/webrtc/v4.(*PeerConnection).close", "github.com/pion/webrtc/v4.(*DTLSTransport).onStateChange"}}}}},
	}}
	by := judgeBrowser(sw)
	pion, chromium := by["Pion"], by["Chromium"]
	if len(pion) != 3 || len(chromium) != 3 {
		t.Fatalf("results: %d Pion, %d Chromium; want 3 each", len(pion), len(chromium))
	}
	for _, tt := range []struct {
		id                string
		results           []Result
		pass, known, fail int
	}{
		{"api.rejected-after-close", pion, 0, 1, 0},     // F7, Pion's close
		{"api.rejected-after-close", chromium, 0, 0, 1}, // the same text, Chromium's: not F7
		{"close.states-at-return", chromium, 0, 0, 1},   // its channel open at return
		{"close.states-at-return", pion, 1, 0, 0},
		{"leak.goroutines", pion, 0, 0, 0},
		{"leak.goroutines", chromium, 0, 0, 0},
		{"harness.no-wedge", pion, 0, 1, 0}, // F8, the close in the DTLS handler
		{"harness.no-wedge", chromium, 0, 0, 0},
	} {
		c := countInvariant(tt.id, tt.results)
		if c.pass != tt.pass || c.known != tt.known || c.fail != tt.fail {
			t.Errorf("%s on %s: pass %d known %d fail %d, want %d %d %d", tt.id, tt.results[0].Verdict.Profile, c.pass, c.known, c.fail, tt.pass, tt.known, tt.fail)
		}
	}
	var b strings.Builder
	if err := WriteBrowserMarkdown(&b, sw); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| `api.rejected-after-close` | known 1/1 (F7) | **fail 1**/1 |",
		"| `close.states-at-return` | pass 1 | **fail 1**/1 |",
		"- `close.states-at-return`: Chromium fails 1 runs",
		"| `method.RTCPeerConnection.addIceCandidate` | method | known: F7 (0 pass, 1 known, 0 fail) | fail (0 pass, 0 known, 1 fail) |",
		"| `harness.no-wedge` | known 1/1 (F8) | n/a |",
		"- seed 3 w rep 0: waits at DTLSTransport.Stop  \n  repro: `closesim browser -n 1 -seed 3 -repeat 3`",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("browser.md lacks %q\n%s", want, b.String())
		}
	}
	sw.File = "docs/findings/browser/F8.json"
	var bf strings.Builder
	_ = WriteBrowserMarkdown(&bf, sw)
	if want := "repro: `closesim browser -file docs/findings/browser/F8.json -repeat 3`"; !strings.Contains(bf.String(), want) {
		t.Errorf("a sweep of a scenario file: browser.md lacks %q", want)
	}
	if strings.Contains(b.String(), "`leak.goroutines`") {
		t.Errorf("browser.md lists leak.goroutines, which no browser run judges:\n%s", b.String())
	}
}
