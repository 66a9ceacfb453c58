package sim

import (
	"testing"

	"github.com/closesim/closesim/scenarios"
)

// TestRoutedIPs: a directed packet fault names every address the main
// router sees for its peer: both with Topology.ExtraIPs, and only the NAT's
// public one for B behind a NAT.
func TestRoutedIPs(t *testing.T) {
	for _, tt := range []struct {
		name string
		topo scenarios.Topology
		peer scenarios.Peer
		want string
	}{
		{name: "one address", peer: scenarios.PeerA, want: "10.0.0.1"},
		{name: "two addresses", topo: scenarios.Topology{ExtraIPs: true}, peer: scenarios.PeerA, want: "10.0.0.1,10.0.0.11"},
		{name: "B with two", topo: scenarios.Topology{ExtraIPs: true}, peer: scenarios.PeerB, want: "10.0.0.2,10.0.0.12"},
		{name: "B behind a NAT", topo: scenarios.Topology{ExtraIPs: true, NAT: scenarios.NATFullCone}, peer: scenarios.PeerB, want: "10.0.0.2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := &world{sc: scenarios.Scenario{Topology: tt.topo, Faults: scenarios.Faults{Packets: []scenarios.PacketFault{{From: tt.peer, Action: scenarios.FaultDrop}}}}}
			if got := w.routedIPs(tt.peer); got != tt.want {
				t.Errorf("routedIPs(%s) = %q, want %q", tt.peer, got, tt.want)
			}
			if f := w.packetFaults()[0]; f.From != tt.want || f.To != w.routedIPs(tt.peer.Other()) {
				t.Errorf("fault from %s: %s -> %s, want %s -> %s", tt.peer, f.From, f.To, tt.want, w.routedIPs(tt.peer.Other()))
			}
			if got := peerName(extraIPs[tt.peer]); got != string(tt.peer) {
				t.Errorf("peerName(%s) = %q, want %s", extraIPs[tt.peer], got, tt.peer)
			}
		})
	}
}
