package sim_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/scenarios"
)

// TestNetworkFaults runs connect + data + close through each network fault
// and NAT type, and checks that the fault happened and that the reliable
// channel still delivered every message in order.
func TestNetworkFaults(t *testing.T) {
	const msgs = 10
	partitioned := func(from scenarios.Peer) scenarios.Scenario {
		// Connect, then cut the link for 8 s (ICE goes disconnected after
		// 5 s of silence) and heal it before ICE fails; send after healing.
		sc := scenarios.ConnectDataClose(31, msgs)
		i := len(sc.Steps) - 5 // before the two send steps, the sleep and the close
		pre := append([]scenarios.Step(nil), sc.Steps[:i]...)
		sc.Steps = append(append(pre, scenarios.Step{Kind: scenarios.KindSleep, Duration: scenarios.Duration(12 * time.Second)}), sc.Steps[i:]...)
		sc.Faults.Packets = []scenarios.PacketFault{{From: from, Action: "drop",
			After: scenarios.Duration(2 * time.Second), Until: scenarios.Duration(10 * time.Second)}}
		return sc
	}
	for _, tc := range []struct {
		name  string
		sc    func() scenarios.Scenario
		trace []string // substrings the trace must hold
		sdp   string   // substring of the answer
	}{
		{"two-way partition heals", func() scenarios.Scenario { return partitioned("") },
			[]string{"A ice disconnected", "B ice disconnected", "fault drop any"}, ""},
		{"one-way partition heals", func() scenarios.Scenario { return partitioned(scenarios.PeerA) },
			[]string{"B ice disconnected", "fault drop any 10.0.0.1->10.0.0.2 after 2s until 10s"}, ""},
		{"20% loss", func() scenarios.Scenario {
			sc := scenarios.ConnectDataClose(32, msgs)
			sc.Faults.Packets = []scenarios.PacketFault{{Action: "drop", Probability: 0.2}}
			return sc
		}, []string{"fault drop any *->* p=0.2"}, ""},
		{"duplicate every packet", func() scenarios.Scenario {
			sc := scenarios.ConnectDataClose(33, msgs)
			sc.Faults.Packets = []scenarios.PacketFault{{Action: "duplicate"}}
			return sc
		}, []string{"fault duplicate any"}, ""},
		{"detached data channels", func() scenarios.Scenario {
			sc := scenarios.ConnectDataClose(34, msgs)
			sc.Settings.DetachDataChannels = true
			return sc
		}, []string{`A dc detached reader "dc" done`, `B dc detached reader "dc" done`}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) { checkNetworkRun(t, tc.sc(), msgs, tc.trace, tc.sdp) })
	}
	for _, nat := range scenarios.NATTypes() {
		t.Run("NAT "+string(nat), func(t *testing.T) {
			sc := scenarios.ConnectDataClose(35, msgs)
			sc.Topology.NAT = nat
			checkNetworkRun(t, sc, msgs, nil, "192.168.1.2")
		})
	}
}

func checkNetworkRun(t *testing.T, sc scenarios.Scenario, msgs int, trace []string, sdp string) {
	t.Helper()
	obs := runUnwedged(t, sc.Seed, func(seed uint64) scenarios.Scenario {
		sc := sc
		sc.Seed = seed
		return sc
	})
	text := facts.Text(obs.Events)
	if obs.Outcome != facts.OutcomeOK {
		t.Fatalf("outcome %s\n%s", obs.Outcome, text)
	}
	for _, peer := range []string{"A", "B"} {
		dcs := peerState(obs, peer).DataChannels
		if len(dcs) != 1 || dcs[0].Received != msgs || fmt.Sprint(dcs[0].ReceivedSeq) != fmt.Sprint(seq(msgs)) {
			t.Errorf("%s's channel: %+v, want %d messages in order", peer, dcs, msgs)
		}
	}
	for _, want := range trace {
		if !strings.Contains(text, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
	if !strings.Contains(obs.Answer, sdp) {
		t.Errorf("answer lacks %q:\n%s", sdp, obs.Answer)
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// TestAsyncAndBufferedLow: a close races an async SetRemoteDescription
// (the close starts while the answer is being applied), and a channel
// with a bufferedAmountLow threshold traces the callback and can be
// closed from it.
func TestAsyncAndBufferedLow(t *testing.T) {
	t.Run("close during an async apply_answer", func(t *testing.T) {
		sc := scenarios.WithClose(scenarios.Base(36), scenarios.CloseAt{Phase: scenarios.PhaseICEChecking,
			Closer: scenarios.PeerA, Mode: scenarios.ModeClose}, 0, 0)
		// ... answer, apply_answer, await ice:checking, close -> make
		// apply_answer async and close right behind it.
		i := slices.IndexFunc(sc.Steps, func(s scenarios.Step) bool { return s.Kind == scenarios.KindApplyAnswer })
		sc.Steps[i].Async = true
		sc.Steps = append(sc.Steps[:i+1], scenarios.Step{Kind: scenarios.KindClose, Peer: scenarios.PeerA, Mode: scenarios.ModeClose, Immediate: true})
		obs := runUnwedged(t, 36, func(seed uint64) scenarios.Scenario { sc := sc; sc.Seed = seed; return sc })
		text := facts.Text(obs.Events)
		step := strings.Index(text, "A step #"+fmt.Sprint(i)+" A apply_answer (async)")
		closeCall := strings.Index(text, "A close call close")
		if step < 0 || closeCall < 0 || closeCall < step {
			t.Fatalf("want the close after the async step started:\n%s", text)
		}
		if len(obs.Steps) != len(sc.Steps) || obs.Steps[i].Index != i {
			t.Errorf("step results %+v", obs.Steps)
		}
	})
	t.Run("close from OnBufferedAmountLow", func(t *testing.T) {
		sc := scenarios.WithClose(scenarios.Base(37), scenarios.CloseAt{Phase: scenarios.PhaseMidTransfer,
			Closer: scenarios.PeerB, Mode: scenarios.ModeClose}, 20, 8000)
		sc.Steps[0].Channel = &scenarios.ChannelOptions{BufferedAmountLowThreshold: 1024}
		sc.Steps = append([]scenarios.Step{{Kind: scenarios.KindCloseOn, Peer: scenarios.PeerA, On: scenarios.OnBufferedAmountLow, Mode: scenarios.ModeClose}},
			sc.Steps[:len(sc.Steps)-1]...)
		obs := runUnwedged(t, 37, func(seed uint64) scenarios.Scenario { sc := sc; sc.Seed = seed; return sc })
		text := facts.Text(obs.Events)
		for _, want := range []string{`A dc buffered amount low "dc"`, "A callback-close from buffered_amount_low(dc)"} {
			if !strings.Contains(text, want) {
				t.Errorf("trace lacks %q", want)
			}
		}
		if len(obs.Closes) != 1 || obs.Closes[0].Callback != "buffered_amount_low" {
			t.Errorf("closes %+v", obs.Closes)
		}
	})
}
