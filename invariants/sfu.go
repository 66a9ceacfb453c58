package invariants

import (
	"fmt"
	"strings"
	"time"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/scenarios"
)

// The SFU's other connections (Topology.SFUClients), judged one by one.
const (
	idSFUOthersUnaffected = "sfu.others-unaffected"
	idSFUClosedAll        = "sfu.closed-all"
)

// sfuNoticeBound is the settle an SFU client needs to notice, by ICE
// consent, a close whose close_notify could not leave: disconnected after
// 5 s, failed 25 s later, with margin.
const sfuNoticeBound = 35 * time.Second

func sfuInvariants() []Invariant {
	return []Invariant{
		{
			ID: idSFUOthersUnaffected,
			Rule: "When A serves more clients (topology.sfu_clients), every connection of theirs that was up before the steps and that the scenario did not close is still up when Final is taken " +
				"(A's side connected, its channel open) and carries a message its client sends after the steps; not judged when the network could cut them too " +
				"(a packet fault on every peer's traffic, A's uplink stalled, or A's UDPMux closed by the application).",
			Ref:      "Pion behaviour: PeerConnections made from one webrtc.API are independent (each closes its own transports; SettingEngine.SetICEUDPMux shares one socket among them); W3C webrtc-pc close() acts on \"connection\" alone",
			Profiles: pionOnly,
			Check:    checkSFUOthersUnaffected,
			Applies:  func(obs *facts.Observation) bool { return len(sfuOthers(obs)) > 0 },
		},
		{
			ID: idSFUClosedAll,
			Rule: fmt.Sprintf("When a close step on A closes all the SFU's connections at once (topology.sfu_close_all), each of A's Close calls returns without error within %s, "+
				"leaves its connection, DTLS, SCTP and channel \"closed\", and its client is no longer \"connected\" when Final is taken (it noticed the close); "+
				"the client is not judged when the network could have kept the news from it (as for sfu.others-unaffected, and a settle under %s once its close_notify could not leave).", CloseBound, sfuNoticeBound),
			Ref:      refCloseTheConnection + " (each connection's algorithm runs to its end whatever the others do); RFC 5246 §7.2.1 (close_notify) and RFC 7675 (consent) for the client",
			Profiles: pionOnly,
			Check:    checkSFUClosedAll,
			Applies: func(obs *facts.Observation) bool {
				for _, c := range obs.SFU {
					if c.Close != nil {
						return true
					}
				}
				return false
			},
		},
	}
}

// sfuNetworkCut reports why the network itself could cut A's other
// connections in this run ("" if it could not): a packet fault on every
// peer's traffic, A's uplink stalled, or A's UDPMux closed before a close.
func sfuNetworkCut(sc scenarios.Scenario) string {
	for i, f := range sc.Faults.Packets {
		if f.From == "" && (f.Action == scenarios.FaultDrop || f.Action == "") {
			return fmt.Sprintf("faults.packets[%d] drops every peer's packets", i)
		}
	}
	if bp := sc.Topology.BackpressureA; bp != nil && bp.StallUntil != 0 {
		return "A's uplink stalls"
	}
	if sc.Settings.CloseMuxFirst {
		for _, s := range sc.Steps {
			if s.Kind == scenarios.KindClose && (s.Peer == scenarios.PeerA || s.Peer == scenarios.PeerBoth) {
				return "A's UDPMux is closed before its close"
			}
		}
	}
	return ""
}

// sfuOthers are the SFU connections sfu.others-unaffected judges.
func sfuOthers(obs *facts.Observation) []facts.SFUConnection {
	if obs.FinalAt == 0 || sfuNetworkCut(obs.Scenario) != "" {
		return nil
	}
	var out []facts.SFUConnection
	for _, c := range obs.SFU {
		if c.Up && c.Close == nil {
			out = append(out, c)
		}
	}
	return out
}

func checkSFUOthersUnaffected(obs *facts.Observation) []Violation {
	var out []Violation
	for _, c := range sfuOthers(obs) {
		var what []string
		if c.A.Connection != facts.StateConnected {
			what = append(what, fmt.Sprintf("A's connection is %q", c.A.Connection))
		}
		for _, dc := range c.A.DataChannels {
			if dc.State != facts.StateOpen {
				what = append(what, fmt.Sprintf("A's channel %q is %q", dc.Label, dc.State))
			}
		}
		switch {
		case !c.ProbeSent:
			what = append(what, "its client could not send after the steps (its channel "+dcStates(c.Remote)+")")
		case !c.ProbeDelivered:
			what = append(what, "A's side never received the message its client sent after the steps")
		}
		if len(what) == 0 {
			continue
		}
		out = append(out, Violation{Invariant: idSFUOthersUnaffected, Peer: "A", Object: ObjectConnection,
			Message:  fmt.Sprintf("A's connection with %s, which the scenario did not close: %s", c.Client, strings.Join(what, "; ")),
			Evidence: sfuEvidence(obs, c.Client)})
	}
	return out
}

func checkSFUClosedAll(obs *facts.Observation) []Violation {
	var out []Violation
	cut := sfuNetworkCut(obs.Scenario)
	settle := time.Duration(obs.Scenario.Settle)
	if settle == 0 {
		settle = time.Duration(scenarios.DefaultSettle)
	}
	for _, c := range obs.SFU {
		cl := c.Close
		if cl == nil {
			continue
		}
		var what []string
		if cl.Err != "" {
			what = append(what, "Close returned "+cl.Err)
		}
		if cl.Took > CloseBound {
			what = append(what, fmt.Sprintf("Close took %s", cl.Took))
		}
		if a := cl.After; a != nil {
			// One violation per state, worded as local.closed-states words
			// them, so that each known issue matches its own field.
			for _, f := range []stateField{{"connection", a.Connection, facts.KindPC, ObjectConnection}, {"DTLS", a.DTLS, facts.KindDTLS, ObjectDTLS}, {"SCTP", a.SCTP, facts.KindSCTP, ObjectSCTP}} {
				if f.got != facts.StateClosed {
					what = append(what, fmt.Sprintf("%s is %q after close", f.name, f.got))
				}
			}
			for _, dc := range a.DataChannels {
				if dc.State != facts.StateClosed {
					what = append(what, fmt.Sprintf("%s is %q after close", dcName(dc), dc.State))
				}
			}
		}
		for _, w := range what {
			out = append(out, Violation{Invariant: idSFUClosedAll, Peer: "A", Object: ObjectConnection,
				Message:  fmt.Sprintf("A's close of its connection with %s: %s", c.Client, w),
				Evidence: sfuEvidence(obs, c.Client)})
		}
		judgeClient := c.Up && obs.FinalAt != 0 && cut == "" && (!obs.Scenario.Settings.CloseMuxFirst || settle >= sfuNoticeBound)
		if judgeClient && c.Remote.Connection == facts.StateConnected {
			out = append(out, Violation{Invariant: idSFUClosedAll, Peer: c.Client, Object: ObjectConnection,
				Message:  fmt.Sprintf("%s is still \"connected\" %s after A closed its connection (DTLS %q)", c.Client, (obs.FinalAt - cl.At).Round(time.Millisecond), c.Remote.DTLS),
				Evidence: sfuEvidence(obs, c.Client)})
		}
	}
	return out
}

// dcStates lists a state's channels as label=state.
func dcStates(st facts.PeerState) string {
	var s []string
	for _, dc := range st.DataChannels {
		s = append(s, fmt.Sprintf("%s=%s", dc.Label, dc.State))
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// sfuEvidence is the trace of one SFU connection: both sides' events.
func sfuEvidence(obs *facts.Observation, client string) []string {
	var out []string
	for _, e := range obs.Events {
		if e.Kind == facts.KindSFU && (e.Peer == client || e.Peer == "A~"+client) {
			out = append(out, e.String())
		}
	}
	if len(out) > 12 {
		out = append(out[:4:4], append([]string{fmt.Sprintf("... %d more", len(out)-12)}, out[len(out)-8:]...)...)
	}
	return out
}
