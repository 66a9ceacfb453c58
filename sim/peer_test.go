package sim

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/pion/webrtc/v4"

	"github.com/closesim/closesim/scenarios"
)

// echoService is a minimal service as users write them: it echoes data
// channel messages and keeps its peers in a map, removed when the
// connection closes. leak makes it start a stats ticker it never stops.
type echoService struct {
	leak bool

	mu    sync.Mutex
	peers map[int]*webrtc.PeerConnection
	next  int
}

func (s *echoService) factory(env *PeerEnv) (*webrtc.PeerConnection, error) {
	pc, err := env.NewPeerConnection(nil)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	id := s.next
	s.next++
	s.peers[id] = pc
	s.mu.Unlock()
	env.Report("peers", func() string {
		s.mu.Lock()
		defer s.mu.Unlock()
		return strconv.Itoa(len(s.peers))
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(m webrtc.DataChannelMessage) { _ = dc.Send(m.Data) })
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateClosed || st == webrtc.PeerConnectionStateFailed {
			s.mu.Lock()
			delete(s.peers, id)
			s.mu.Unlock()
		}
	})
	if s.leak {
		go func() {
			for range time.Tick(time.Second) {
				_ = pc.GetStats()
			}
		}()
	}
	return pc, nil
}

func TestWithPeer(t *testing.T) {
	sc := scenarios.WithClose(scenarios.Base(7), scenarios.CloseAt{Phase: scenarios.PhaseMidTransfer,
		Closer: scenarios.PeerA, Mode: scenarios.ModeGraceful}, 5, 64)
	// B is the service: it answers what A sends, so drop B's own send.
	sc.Steps = slices.DeleteFunc(sc.Steps, func(s scenarios.Step) bool { return s.Kind == scenarios.KindSend && s.Peer == scenarios.PeerB })
	// B learns of A's close by ICE consent, not by a close_notify that makes
	// Pion close B while A's ABORT is handled: that path can reach F1 (a
	// wedge), often under the race detector's randomized scheduling.
	sc.Settings.DisableCloseByDTLS = true
	for _, tc := range []struct {
		name      string
		svc       *echoService
		outcome   facts.Outcome
		leakFrame string
	}{
		{"clean service", &echoService{}, facts.OutcomeOK, ""},
		{"service leaks a ticker goroutine", &echoService{leak: true}, facts.OutcomeLeak, "echoService).factory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.svc.peers = map[int]*webrtc.PeerConnection{}
			obs, err := Run(t, sc, WithPeer(scenarios.PeerB, tc.svc.factory))
			if err != nil {
				t.Fatal(err)
			}
			if obs.Outcome != tc.outcome {
				t.Fatalf("outcome %s, want %s; leaks %v; trace:\n%s", obs.Outcome, tc.outcome, obs.Leaks, facts.Text(obs.Events))
			}
			if got := strings.Join(obs.UserPeers, ","); got != "B" {
				t.Errorf("UserPeers %q, want B", got)
			}
			if obs.Reports["peers"] != "0" {
				t.Errorf("Reports %v, want peers=0 after teardown", obs.Reports)
			}
			// B's connection failed by ICE consent within the settle
			// period, so the service had already dropped B when the final
			// states were taken.
			if obs.Final[1].Connection != "failed" || obs.FinalReports["peers"] != "0" {
				t.Errorf("final B connection %s, FinalReports %v; want failed and peers=0", obs.Final[1].Connection, obs.FinalReports)
			}
			for _, st := range obs.Steps {
				if st.Err != "" {
					t.Errorf("step %d %s: %s", st.Index, st.Step, st.Err)
				}
			}
			if a := obs.Final[0].DataChannels; len(a) != 1 || a[0].Received != 5 {
				t.Errorf("A's channels %+v, want the 5 messages echoed back", a)
			}
			if tc.leakFrame != "" {
				found := false
				for _, g := range obs.Leaks {
					found = found || strings.Contains(g.Stack, tc.leakFrame)
				}
				if !found {
					t.Errorf("no leaked goroutine in %s: %v", tc.leakFrame, obs.Leaks)
				}
			}
		})
	}
}

func TestWithPeerBadInput(t *testing.T) {
	sc := scenarios.WithClose(scenarios.Base(7), scenarios.CloseAt{Phase: scenarios.PhaseBeforeOffer,
		Closer: scenarios.PeerA, Mode: scenarios.ModeClose}, 1, 1)
	if _, err := Run(t, sc, WithPeer("C", func(*PeerEnv) (*webrtc.PeerConnection, error) { return nil, nil })); err == nil ||
		!strings.Contains(err.Error(), `peer "C"`) {
		t.Errorf("peer C: err %v", err)
	}
	for _, tc := range []struct {
		name string
		f    PeerFactory
		want string
	}{
		{"factory error", func(env *PeerEnv) (*webrtc.PeerConnection, error) {
			_, _ = env.NewPeerConnection(nil)
			return nil, errors.New("boom")
		}, "user peer factory: boom"},
		{"nil PeerConnection", func(*PeerEnv) (*webrtc.PeerConnection, error) { return nil, nil }, "no PeerConnection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs, err := Run(t, sc, WithPeer(scenarios.PeerB, tc.f))
			if err != nil {
				t.Fatal(err)
			}
			if obs.Outcome != facts.OutcomeError || !strings.Contains(obs.Error, tc.want) {
				t.Errorf("outcome %s error %q, want error containing %q", obs.Outcome, obs.Error, tc.want)
			}
		})
	}
}
