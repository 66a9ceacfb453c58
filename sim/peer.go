package sim

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/closesim/closesim/scenarios"
)

// PeerFactory builds the PeerConnection of one peer from code that is not
// closesim's: a user's service under test. It is called inside the bubble,
// once per run, before any step; everything it starts (goroutines, timers,
// sockets through env's network) is covered by the run's leak, wedge and
// late-timer checks. A factory error ends the run as facts.OutcomeError.
//
// closesim still drives that peer through the scenario's steps (it is the
// signaling channel: it creates and applies the descriptions, trickles the
// candidates, and closes the PeerConnection at the scenario's close points),
// so the factory should wire the service's handlers and return, as a
// service does when a new client arrives.
type PeerFactory func(env *PeerEnv) (*webrtc.PeerConnection, error)

// WithPeer makes peer p (A or B) the user's: its PeerConnection comes from
// f instead of closesim. The other peer stays closesim's, fully traced.
func WithPeer(p scenarios.Peer, f PeerFactory) Option {
	return func(c *config) { c.factories[p] = f }
}

// PeerEnv is what a PeerFactory gets: the settings closesim prepared for the
// peer (simulated network, port range, logger, the scenario's SettingEngine
// dimensions and shared certificates) and a way to report service state.
type PeerEnv struct {
	// Peer is the side being built, A or B.
	Peer scenarios.Peer
	// SettingEngine is prepared for the simulated world. Build an API from
	// it, adding a MediaEngine or interceptors as the service does; do not
	// replace its network.
	SettingEngine webrtc.SettingEngine
	// Configuration carries the peer's certificate; add ICE servers or
	// other fields as the service does.
	Configuration webrtc.Configuration

	p       *peer
	created *webrtc.PeerConnection
}

// NewAPI returns webrtc.NewAPI with env's SettingEngine and opts.
func (env *PeerEnv) NewAPI(opts ...func(*webrtc.API)) *webrtc.API {
	return webrtc.NewAPI(append([]func(*webrtc.API){webrtc.WithSettingEngine(env.SettingEngine)}, opts...)...)
}

// NewPeerConnection creates the peer's PeerConnection from api (nil: an API
// from env's SettingEngine) with env's Configuration, and registers
// closesim's trace handlers on it before returning. Handlers the service
// sets afterwards replace closesim's for the same events (Pion keeps one
// handler per event), which costs only trace detail for those events.
// Leave OnICECandidate to closesim in trickle scenarios: it is the
// signaling channel that delivers candidates to the other peer.
func (env *PeerEnv) NewPeerConnection(api *webrtc.API) (*webrtc.PeerConnection, error) {
	if env.created != nil {
		return nil, errors.New("closesim: PeerEnv.NewPeerConnection called twice")
	}
	if api == nil {
		api = env.NewAPI()
	}
	pc, err := api.NewPeerConnection(env.Configuration)
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	env.created = pc
	env.p.pc = pc
	env.p.watch()
	return pc, nil
}

// Report registers fn to be called once the run has settled after the
// harness closed both peers; its value is recorded in
// facts.Observation.Reports[key], where an invariant can judge it (for instance
// "the service's per-peer map is empty"). fn is also called when the final
// states are taken, before that teardown (facts.Observation.FinalReports).
func (env *PeerEnv) Report(key string, fn func() string) {
	env.p.w.reports.add(key, fn)
}

// reports are the service reporters of a run.
type reports struct {
	mu  sync.Mutex
	fns map[string]func() string
}

func (r *reports) add(key string, fn func() string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fns == nil {
		r.fns = map[string]func() string{}
	}
	r.fns[key] = fn
}

// collect calls every reporter, in key order.
func (r *reports) collect() map[string]string {
	r.mu.Lock()
	keys := make([]string, 0, len(r.fns))
	for k := range r.fns {
		keys = append(keys, k)
	}
	fns := r.fns
	r.mu.Unlock()
	if len(keys) == 0 {
		return nil
	}
	sort.Strings(keys)
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[k] = fns[k]()
	}
	return out
}

// userPeerConnection builds p's PeerConnection with the user's factory.
func (p *peer) userPeerConnection(f PeerFactory, se webrtc.SettingEngine, conf webrtc.Configuration) error {
	env := &PeerEnv{Peer: p.name, SettingEngine: se, Configuration: conf, p: p}
	pc, err := f(env)
	if err != nil {
		for _, c := range []*webrtc.PeerConnection{pc, env.created} {
			if c != nil {
				_ = c.Close()
			}
		}
		return fmt.Errorf("user peer factory: %w", err)
	}
	if pc == nil {
		return errors.New("user peer factory returned no PeerConnection and no error")
	}
	if env.created == nil {
		// Built without env.NewPeerConnection: attach closesim's handlers
		// now (this replaces the service's handlers for the same events).
		p.pc = pc
		p.watch()
	} else if pc != env.created {
		_ = pc.Close()
		return errors.New("user peer factory returned a PeerConnection other than the one env.NewPeerConnection created")
	}
	p.user = true
	return nil
}

// userPoll is how often an await on a user's peer re-reads its states.
const userPoll = 5 * time.Millisecond

// awaitUser waits, like await, for state key on a user's peer, reading
// Pion's getters as well as the states closesim's handlers recorded.
func (p *peer) awaitUser(timeout time.Duration, key scenarios.State) bool {
	deadline := time.Now().Add(timeout)
	for {
		if p.stateIs(key) {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		p.await(min(left, userPoll), func() bool { return p.seen[key] })
	}
}

// stateIs reports whether p is in (or has recorded) state key.
func (p *peer) stateIs(key scenarios.State) bool {
	p.mu.Lock()
	seen := p.seen[key]
	p.mu.Unlock()
	if seen {
		return true
	}
	kind, val, _ := strings.Cut(string(key), ":")
	switch kind {
	case "ice":
		return p.pc.ICEConnectionState().String() == val
	case "pc":
		return p.pc.ConnectionState().String() == val
	case "dtls":
		return p.pc.SCTP().Transport().State().String() == val
	case "dc":
		// "dc:open/<label>": the service owns its data channels; the stats
		// still name them.
		state, label, _ := strings.Cut(val, "/")
		if p.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
			// GetStats races with a Close (F28: PeerConnection.close
			// writes statsGetter unlocked). A service closes on failure,
			// and Pion closes the PeerConnection itself when DTLS fails
			// to start, before it ever connected: no stats unless
			// connected, the only state in which a channel opens.
			return false
		}
		if len(p.pc.GetReceivers()) > 0 {
			// With receivers GetStats reads statsGetter after its lock,
			// racing with any Close (F28), Pion's own on a failed
			// transport included: read the other side's record of the
			// channel instead, when closesim runs that side (it opens
			// once the service acknowledged the channel).
			o := p.w.peers[p.name.Other()]
			if o == nil || o.user {
				return false
			}
			o.mu.Lock()
			defer o.mu.Unlock()
			return o.seen[key]
		}
		for _, st := range p.pc.GetStats() {
			if dc, ok := st.(webrtc.DataChannelStats); ok && dc.Label == label && dc.State.String() == state {
				return true
			}
		}
	}
	return false
}
