package report

import (
	"strings"
	"testing"
	"time"

	"github.com/closesim/closesim/facts"
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
		"Chromium fails 1 of 1 runs: open (browser deviation from the spec)",
		"| Chromium tab closed | connected | 1 | 0/1 | — | — | n/a |",
		"| Pion Close() | connected | 1 | 1/1 | 2ms | 2ms | dc close dc |",
		"- seed 4 d rep 0: browser: boom  \n  repro: `closesim browser -n 1 -seed 4 -repeat 3`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("browser.md lacks %q\n%s", want, md)
		}
	}
}
