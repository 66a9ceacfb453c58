package echo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/pion/webrtc/v4"

	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
	"github.com/closesim/closesim/suite"
)

// TestCloseSweep is the example's closesim suite: the server is peer B,
// closesim's peer A is the client, and every run closes someone at a
// generated point. By default it sweeps 20 seeds (5 with -short); the
// -closesim.* flags replay, shrink or serve closesim run:
//
//	go test ./examples/echo -run '^TestCloseSweep$' -v -closesim.seeds=500
//	go test ./examples/echo -run '^TestCloseSweep$' -v -closesim.seed=42
//	go run ./cmd/closesim run -pkg ./examples/echo -test TestCloseSweep -n 1000
func TestCloseSweep(t *testing.T) {
	suite.Run(t, config(NewServer, (*Server).Accept))
}

// TestEcho checks the service itself on one fixed scenario: the client
// opens a channel, sends 5 messages and audio and video, and closes
// gracefully; the messages come back in order, both tracks come back
// reflected, and the server notices the client is gone (ICE consent),
// closes its side and lets the client go.
func TestEcho(t *testing.T) {
	sc := scenarios.Base(7)
	sc.Name = "echo-data-and-media"
	// The server learns of the close by ICE consent and closes its side
	// itself, 30 s later. With a DTLS close_notify, Pion would close the
	// server's side while the client's SCTP ABORT is being handled, which
	// can reach Pion's F1 wedge (often under the race detector).
	sc.Settings.DisableCloseByDTLS = true
	a, b := scenarios.PeerA, scenarios.PeerB
	sc.Steps = []scenarios.Step{
		{Kind: scenarios.KindCreateDataChannel, Peer: a, Label: scenarios.DataChannelLabel},
		{Kind: scenarios.KindAddTrack, Peer: a, Label: scenarios.AudioLabel, Media: scenarios.MediaAudio},
		{Kind: scenarios.KindAddTrack, Peer: a, Label: scenarios.VideoLabel, Media: scenarios.MediaVideo},
		{Kind: scenarios.KindOffer, Peer: a}, {Kind: scenarios.KindApplyOffer, Peer: b},
		{Kind: scenarios.KindAnswer, Peer: b}, {Kind: scenarios.KindApplyAnswer, Peer: a},
		{Kind: scenarios.KindAwait, Peer: a, State: scenarios.StateDCOpen, Label: scenarios.DataChannelLabel},
		{Kind: scenarios.KindSend, Peer: a, Label: scenarios.DataChannelLabel, Count: 5, Size: 100},
		{Kind: scenarios.KindWriteMedia, Peer: a, Label: scenarios.AudioLabel, Count: 20, Size: 160, Duration: scenarios.Duration(20 * time.Millisecond)},
		{Kind: scenarios.KindWriteMedia, Peer: a, Label: scenarios.VideoLabel, Count: 10, Size: 1000, Duration: scenarios.Duration(33 * time.Millisecond)},
		{Kind: scenarios.KindSleep, Duration: scenarios.Duration(200 * time.Millisecond)},
		{Kind: scenarios.KindClose, Peer: a, Mode: scenarios.ModeGraceful},
	}
	obs := suite.Check(t, config(NewServer, (*Server).Accept), sc)
	if obs.Outcome != facts.OutcomeOK {
		t.Fatalf("outcome %s", obs.Outcome)
	}
	for _, st := range obs.Steps {
		if st.Err != "" {
			t.Errorf("step %s: %s", st.Step, st.Err)
		}
	}
	client := obs.Final[0]
	if dcs := client.DataChannels; len(dcs) != 1 || !slices.Equal(dcs[0].ReceivedSeq, []int{0, 1, 2, 3, 4}) || dcs[0].Corrupt != 0 {
		t.Errorf("client's channel %+v, want messages 0..4 echoed intact", dcs)
	}
	reflected := map[string]int{}
	for _, tr := range client.Tracks {
		if !tr.Local {
			reflected[tr.Kind] = tr.Packets
		}
	}
	if reflected["audio"] == 0 || reflected["video"] == 0 {
		t.Errorf("client's tracks %+v, want audio and video reflected back", client.Tracks)
	}
	if obs.FinalReports["clients"] != "0" || obs.Reports["clients"] != "0" {
		t.Errorf("clients at the final states %s, after teardown %s; want 0 and 0", obs.FinalReports["clients"], obs.Reports["clients"])
	}
	t.Logf("reflected RTP packets: %v", reflected)
}

// serverPC makes a server connection as the service's signaling handler
// does, with the API of NewAPI on se, by newPC (the harness's
// NewPeerConnection, which records its callbacks).
func serverPC(se webrtc.SettingEngine, newPC func(*webrtc.API) (*webrtc.PeerConnection, error)) (*webrtc.PeerConnection, error) {
	api, err := NewAPI(se)
	if err != nil {
		return nil, err
	}
	return newPC(api)
}

// config plugs a fresh server from newServer in as peer B of every run,
// handing it the connection with accept, with the example's invariants and
// generator.
func config(newServer func() *Server, accept func(*Server, *webrtc.PeerConnection) error) suite.Config {
	return suite.Config{
		Peers: map[scenarios.Peer]sim.PeerFactory{
			scenarios.PeerB: func(env *sim.PeerEnv) (*webrtc.PeerConnection, error) {
				pc, err := serverPC(env.SettingEngine, env.NewPeerConnection)
				if err != nil {
					return nil, err
				}
				s := newServer()
				env.Report("clients", func() string { return strconv.Itoa(s.Clients()) })
				return pc, accept(s, pc)
			},
		},
		Invariants: []invariants.Invariant{clientsReleased, goneClientsReleased},
		Generate:   generate,
	}
}

// The example's own invariants, judged on the server's client count.
var (
	clientsReleased = invariants.Invariant{
		ID:   "echo.clients-released",
		Rule: "After every PeerConnection was closed and the world settled, the server holds no client.",
		Ref:  "examples/echo: Server.Accept keeps a client until its connection closes",
		Check: func(obs *facts.Observation) []invariants.Violation {
			if n, ok := obs.Reports["clients"]; ok && n != "0" {
				return []invariants.Violation{{Invariant: "echo.clients-released", Peer: "B",
					Message: fmt.Sprintf("the server still holds %s client(s) after teardown", n)}}
			}
			return nil
		},
	}
	goneClientsReleased = invariants.Invariant{
		ID:   "echo.gone-clients-released",
		Rule: "When the final states are taken, a server whose connection Pion reports \"failed\" or \"closed\" holds no client: it noticed on its own, before any teardown.",
		Ref:  "examples/echo: Server.Accept closes a failed connection and forgets a closed one",
		Check: func(obs *facts.Observation) []invariants.Violation {
			for _, st := range obs.Final {
				if st.Peer != "B" || (st.Connection != "failed" && st.Connection != "closed") {
					continue
				}
				if n, ok := obs.FinalReports["clients"]; ok && n != "0" {
					return []invariants.Violation{{Invariant: "echo.gone-clients-released", Peer: "B",
						Message:  fmt.Sprintf("the server still holds %s client(s) though its connection is %q", n, st.Connection),
						Evidence: []string{fmt.Sprintf("final B: connection=%s ice=%s dtls=%s sctp=%s", st.Connection, st.ICEConnection, st.DTLS, st.SCTP)}}}
				}
			}
			return nil
		},
	}
)

// generate is scenarios.Generate adapted to a server in B's seat: B's own
// media and data steps go (closesim would add tracks to, or send on, the
// server's connection, which the server does not do), and when the
// generator gave the client no track, half the seeds have the client (A)
// send audio and video, which the server reflects.
func generate(seed uint64) scenarios.Scenario {
	sc := scenarios.Generate(seed)
	sc.Steps = slices.DeleteFunc(sc.Steps, func(s scenarios.Step) bool {
		return s.Peer == scenarios.PeerB && slices.Contains(serverOwned, s.Kind)
	})
	if slices.ContainsFunc(sc.Steps, func(s scenarios.Step) bool { return s.Kind == scenarios.KindAddTrack }) {
		return sc
	}
	r := rand.New(rand.NewPCG(seed, 0x6563686f)) // "echo"
	offer := slices.IndexFunc(sc.Steps, func(s scenarios.Step) bool { return s.Kind == scenarios.KindOffer })
	if r.IntN(2) == 0 || offer < 0 {
		return sc
	}
	sc.Steps = slices.Insert(sc.Steps, offer,
		scenarios.Step{Kind: scenarios.KindAddTrack, Peer: scenarios.PeerA, Label: scenarios.AudioLabel, Media: scenarios.MediaAudio},
		scenarios.Step{Kind: scenarios.KindAddTrack, Peer: scenarios.PeerA, Label: scenarios.VideoLabel, Media: scenarios.MediaVideo})
	open := slices.IndexFunc(sc.Steps, func(s scenarios.Step) bool {
		return s.Kind == scenarios.KindAwait && s.State == scenarios.StateDCOpen
	})
	if open >= 0 {
		label := []string{scenarios.AudioLabel, scenarios.VideoLabel}[r.IntN(2)]
		sc.Steps = slices.Insert(sc.Steps, open+1, scenarios.Step{
			Kind: scenarios.KindWriteMedia, Peer: scenarios.PeerA, Label: label,
			Count: 1 + r.IntN(30), Size: 100 + r.IntN(1100), Duration: scenarios.Duration(20 * time.Millisecond),
		})
	}
	sc.Name = "media+" + sc.Name
	return sc
}

// serverOwned are the step kinds that would act on the server's connection
// as if closesim owned it.
var serverOwned = []scenarios.Kind{scenarios.KindAddTrack, scenarios.KindWriteMedia, scenarios.KindRemoveTrack,
	scenarios.KindStopTransceiver, scenarios.KindSend, scenarios.KindCreateDataChannel, scenarios.KindCloseDataChannel}
