package echo

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/closesim/closesim/sim"
	"github.com/closesim/closesim/suite"
)

// TestBrowser runs closesim's browser scenarios with the echo server as
// the Pion side against headless Chromium over loopback UDP, in real time
// (skipped under -short and without Chromium): whoever closes, and
// however, the server must end holding no client once its connections are
// closed. closesim browser drives it and writes browser.md:
//
//	go run ./cmd/closesim browser -pkg ./examples/echo -test TestBrowser -n 20
func TestBrowser(t *testing.T) {
	srv := NewServer()
	suite.Browser(t, suite.BrowserConfig{Peer: func(env *sim.BrowserPeerEnv) (*webrtc.PeerConnection, error) {
		pc, err := serverPC(env.SettingEngine, env.NewPeerConnection)
		if err != nil {
			return nil, err
		}
		return pc, srv.Accept(pc)
	}})
	if t.Skipped() {
		return
	}
	// Each run closes the server's connection at its end; the server
	// forgets a client on its "closed" callback, which Pion dispatches on
	// a goroutine of its own.
	deadline := time.Now().Add(5 * time.Second)
	for srv.Clients() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := srv.Clients(); n > 0 {
		t.Errorf("the server still holds %d clients after every run closed its connection", n)
	}
}
