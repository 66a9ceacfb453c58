package sim

import (
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4"
)

// BrowserOption configures RunBrowser.
type BrowserOption func(*browserConfig)

type browserConfig struct {
	peer BrowserPeerFactory
}

// WithBrowserPeer makes the Pion side of a browser run the user's: its
// PeerConnection comes from f (a service's own construction, its
// MediaEngine, interceptors and handlers) instead of closesim's.
func WithBrowserPeer(f BrowserPeerFactory) BrowserOption {
	return func(c *browserConfig) { c.peer = f }
}

// BrowserPeerFactory builds the Pion side of a browser run, once per run:
// it must create its PeerConnection with env.NewPeerConnection and return
// it. The run then drives it as closesim drives its own (the scenario's
// offer or answer, data channel "dc" when Pion offers, sends, the close),
// against headless Chromium over real loopback UDP.
type BrowserPeerFactory func(env *BrowserPeerEnv) (*webrtc.PeerConnection, error)

// BrowserPeerEnv is what a BrowserPeerFactory gets: the SettingEngine a
// browser run needs (127.0.0.1 host candidates over UDP4 only, no mDNS, so
// that no packet is addressed to anything but loopback) and the
// Configuration to build on.
type BrowserPeerEnv struct {
	// SettingEngine is prepared for loopback. Build an API from it, adding
	// what the service adds; keep its network settings.
	SettingEngine webrtc.SettingEngine
	// Configuration is empty (no ICE servers: the run is loopback only);
	// add what the service sets.
	Configuration webrtc.Configuration

	p *loopbackPeer
}

// NewAPI returns webrtc.NewAPI with env's SettingEngine and opts.
func (env *BrowserPeerEnv) NewAPI(opts ...func(*webrtc.API)) *webrtc.API {
	return webrtc.NewAPI(append([]func(*webrtc.API){webrtc.WithSettingEngine(env.SettingEngine)}, opts...)...)
}

// NewPeerConnection creates the run's PeerConnection from api (nil: an API
// from env's SettingEngine) with env's Configuration, and registers
// closesim's recording handlers on it before returning. Handlers the
// service sets afterwards replace closesim's for the same events (Pion
// keeps one handler per event): the run's record then lacks those
// callbacks, and its Observation lists the peer among UserPeers.
func (env *BrowserPeerEnv) NewPeerConnection(api *webrtc.API) (*webrtc.PeerConnection, error) {
	if env.p.pc != nil {
		return nil, errors.New("closesim: BrowserPeerEnv.NewPeerConnection called twice")
	}
	if api == nil {
		api = env.NewAPI()
	}
	pc, err := api.NewPeerConnection(env.Configuration)
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	env.p.pc = pc
	env.p.watchPC()
	return pc, nil
}
