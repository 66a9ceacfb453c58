package sim

import (
	"fmt"
	"math/rand/v2"
	"net"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/pion/transport/v5/vnet"
	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"

	"github.com/closesim/closesim/facts"
)

// The TURN relay of Topology.TURN: a pion/turn server on the world's vnet,
// with one long-term credential both peers use.
const (
	turnIP    = facts.TURNRelayIP
	turnPort  = 3478
	turnUser  = "closesim"
	turnPass  = "closesim"
	turnRealm = "closesim"
)

// turnRelay is the world's TURN server and what it saw.
type turnRelay struct {
	srv *turn.Server
	// closing is set when the harness shuts the relay down: the
	// allocations it then drops are traced apart (OpEnded), not as a
	// client's deallocation.
	closing atomic.Bool
	mu      sync.Mutex
	// live are the allocations created and not yet deleted, by client
	// address (5-tuple source).
	live map[string]bool
}

// seededRand is a randutil.MathRandomGenerator drawn from the scenario's
// seed: the relay ports it picks, and so the relay candidates, replay.
type seededRand struct{ r *rand.Rand }

func (s seededRand) Intn(n int) int { return s.r.IntN(n) }
func (s seededRand) Uint32() uint32 { return s.r.Uint32() }
func (s seededRand) Uint64() uint64 { return s.r.Uint64() }
func (s seededRand) GenerateString(n int, runes string) string {
	out := make([]byte, n)
	for i := range out {
		out[i] = runes[s.r.IntN(len(runes))]
	}
	return string(out)
}

// startTURN puts a TURN server on the router at turnIP and traces every
// allocation it creates and deletes (kind "turn").
func (w *world) startTURN() error {
	vn, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{turnIP}})
	if err != nil {
		return fmt.Errorf("turn net: %w", err)
	}
	if err := w.router.AddNet(vn); err != nil {
		return fmt.Errorf("turn net: %w", err)
	}
	conn, err := vn.ListenPacket("udp4", fmt.Sprintf("%s:%d", turnIP, turnPort))
	if err != nil {
		return fmt.Errorf("turn listen: %w", err)
	}
	t := &turnRelay{live: map[string]bool{}}
	key := turn.GenerateAuthKey(turnUser, turnRealm, turnPass)
	trace := w.trace
	cfg := turn.ServerConfig{
		Realm:         turnRealm,
		LoggerFactory: &traceLoggerFactory{trace: trace},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn: conn,
			RelayAddressGenerator: &turn.RelayAddressGeneratorPortRange{
				RelayAddress: net.ParseIP(turnIP), Address: turnIP, MinPort: 40000, MaxPort: 40999, Net: vn,
				Rand: seededRand{rand.New(rand.NewPCG(w.sc.Seed, 0x7475726e))}, // "turn"
			},
		}},
		EventHandler: turn.EventHandler{
			OnAllocationCreated: func(src, _ net.Addr, _, _, _ string, relay net.Addr, _ int) {
				t.mu.Lock()
				t.live[src.String()] = true
				t.mu.Unlock()
				trace.op(peerOf(src), facts.KindTURN, facts.OpOpen, relay.String(), "allocation %s", relay)
			},
			OnAllocationDeleted: func(src, _ net.Addr, _, _, _ string) {
				t.mu.Lock()
				delete(t.live, src.String())
				t.mu.Unlock()
				if t.closing.Load() {
					trace.op(peerOf(src), facts.KindTURN, facts.OpEnded, "", "allocation dropped by the relay's shutdown")
					return
				}
				trace.op(peerOf(src), facts.KindTURN, facts.OpClose, "", "allocation deleted")
			},
		},
	}
	setTURNAuth(&cfg, key)
	srv, err := turn.NewServer(cfg)
	if err != nil {
		return fmt.Errorf("turn server: %w", err)
	}
	t.srv = srv
	w.turn = t
	return nil
}

// setTURNAuth sets cfg's AuthHandler to accept turnUser with key and no
// one else. The handler's type is the one place where the pion/turn majors
// that Pion's releases use differ for closesim: turn/v5 passes
// *RequestAttributes and returns the user ID too, turn/v4 (webrtc before
// v4.2.13, which closesim matrix builds with the import rewritten) passes
// (username, realm, srcAddr). Reflection builds whichever function the field
// wants, so that this file compiles against both.
func setTURNAuth(cfg *turn.ServerConfig, key []byte) {
	f := reflect.ValueOf(cfg).Elem().FieldByName("AuthHandler")
	ft := f.Type()
	f.Set(reflect.MakeFunc(ft, func(in []reflect.Value) []reflect.Value {
		var user string
		if arg := in[0]; arg.Kind() == reflect.String {
			user = arg.String() // turn/v4: (username, realm, srcAddr)
		} else {
			user = arg.Elem().FieldByName("Username").String() // turn/v5: *RequestAttributes
		}
		out := []reflect.Value{reflect.ValueOf(key), reflect.ValueOf(user == turnUser)}
		if ft.NumOut() == 3 { // turn/v5 returns the user ID first
			out = append([]reflect.Value{reflect.ValueOf(user)}, out...)
		}
		return out
	}))
}

// peerOf names the peer an address belongs to ("A", "B", or the address).
func peerOf(a net.Addr) string {
	if ua, ok := a.(*net.UDPAddr); ok {
		return peerName(ua.IP.String())
	}
	return a.String()
}

// iceServers is the ICE server list of a peer when the world has a relay.
func turnICEServers() []webrtc.ICEServer {
	return []webrtc.ICEServer{{
		URLs:     []string{fmt.Sprintf("turn:%s:%d?transport=udp", turnIP, turnPort)},
		Username: turnUser, Credential: turnPass,
	}}
}

// shutdown closes the relay; the allocations it still held are traced as
// dropped by the shutdown.
func (t *turnRelay) shutdown() error {
	t.closing.Store(true)
	return t.srv.Close()
}

// liveAllocations is how many allocations the relay still holds.
func (t *turnRelay) liveAllocations() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.live)
}
