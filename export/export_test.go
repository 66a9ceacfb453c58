package export

import (
	"errors"
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/closesim/closesim/scenarios"
)

func base() scenarios.Scenario {
	return scenarios.Scenario{Version: 1, Seed: 7, Topology: scenarios.Topology{PortA: 10007, PortB: 20007},
		Steps: []scenarios.Step{
			{Kind: scenarios.KindCreateDataChannel, Peer: scenarios.PeerA, Label: "dc"},
			{Kind: scenarios.KindOffer, Peer: scenarios.PeerA},
			{Kind: scenarios.KindApplyOffer, Peer: scenarios.PeerB},
			{Kind: scenarios.KindClose, Peer: scenarios.PeerBoth, Mode: scenarios.ModeGraceful, Immediate: true, Yields: 3},
		}}
}

// TestGoWritesTheScenario: the file parses, its test is named after the
// finding, runs each step as one call in order, and carries the topology,
// settings and faults it was given.
func TestGoWritesTheScenario(t *testing.T) {
	sc := base()
	sc.Topology.NAT = scenarios.NATSymmetric
	sc.Topology.LinkDelay = scenarios.Duration(15e6)
	sc.Settings.DisableCloseByDTLS = true
	sc.Settings.AnsweringDTLSRole = scenarios.DTLSRoleClient
	sc.Faults.Packets = []scenarios.PacketFault{
		{Class: scenarios.ClassDTLSAlert, From: scenarios.PeerA, Action: scenarios.FaultDrop, After: scenarios.Duration(1580e6), Until: scenarios.Duration(3902e6)},
		{Action: scenarios.FaultDuplicate, Delay: scenarios.Duration(16e6), Probability: 0.37},
	}
	src, err := Go(sc, Options{Finding: "F9", Invariant: "local.closed-states", Source: "F9-min.json", Note: "a note"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "F9_test.go", src, 0); err != nil {
		t.Fatalf("the file does not parse: %v", err)
	}
	text := strings.Join(strings.Fields(string(src)), " ") // gofmt aligns fields
	want := []string{
		"func TestF9(t *testing.T) {",
		"seed: 7, portA: 10007, portB: 20007,",
		"linkDelay: 15 * time.Millisecond,",
		`nat: "symmetric",`,
		`{action: "drop", class: "dtls-alert", from: "A", after: 1580 * time.Millisecond, until: 3902 * time.Millisecond},`,
		`{action: "duplicate", delay: 16 * time.Millisecond, probability: 0.37, seed: 0x100000007},`,
		"se.DisableCloseByDTLS(true)",
		"_ = se.SetAnsweringDTLSRole(webrtc.DTLSRoleClient)",
		`w.step(false, 0, false, func() error { return w.createDataChannel("A", "dc", nil, 0) })`,
		`w.step(false, 0, false, func() error { return w.offer("A", false) })`,
		`w.step(false, 0, false, func() error { return w.apply("B") })`,
		`w.step(true, 3, false, func() error { return w.closePeers("both", true, 1) })`,
		"}, checkClosedStates)",
		"// a note",
		"package repro",
	}
	for _, w := range want {
		if !strings.Contains(text, strings.Join(strings.Fields(w), " ")) {
			t.Errorf("the file lacks %q", w)
		}
	}
	if i, j := strings.Index(text, "w.offer("), strings.Index(text, "w.apply("); i < 0 || j < i {
		t.Errorf("steps out of order")
	}
	for _, imp := range []string{"closesim", "gofuzz"} {
		if strings.Contains(text, "\"github.com/"+imp) || strings.Contains(text, "/"+imp+"/") {
			t.Errorf("the file imports %s", imp)
		}
	}
}

// TestGoRefuses: what the reproducer's world cannot build is an
// *Unsupported naming the field; an invariant it cannot check, or a bad
// finding name, is an error too.
func TestGoRefuses(t *testing.T) {
	for _, tt := range []struct {
		name    string
		edit    func(*scenarios.Scenario)
		inv     string
		finding string
		want    string
	}{
		{"sfu", func(s *scenarios.Scenario) { s.Topology.SFUClients = 2 }, "", "", "topology.sfu_clients"},
		{"late handler", func(s *scenarios.Scenario) { s.Settings.DataChannelHandlerDelayB = scenarios.Duration(1e9) }, "", "", "settings.data_channel_handler_delay_b"},
		{"turn check without turn", func(*scenarios.Scenario) {}, "leak.turn-allocations", "", "no TURN relay"},
		{"custom step", func(s *scenarios.Scenario) {
			s.Steps = append(s.Steps, scenarios.Step{Kind: scenarios.KindCustom, Name: "x"})
		}, "", "", `steps[4].kind "custom"`},
		{"invariant", func(*scenarios.Scenario) {}, "sfu.closed-all", "", `invariant "sfu.closed-all"`},
		{"finding", func(*scenarios.Scenario) {}, "", "F-2", `finding "F-2"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := base()
			tt.edit(&sc)
			inv, finding := tt.inv, tt.finding
			if inv == "" {
				inv = "local.closed-states"
			}
			if finding == "" {
				finding = "F1"
			}
			_, err := Go(sc, Options{Finding: finding, Invariant: inv})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one naming %s", err, tt.want)
			}
			var u *Unsupported
			if strings.Contains(tt.want, ".") && !strings.HasPrefix(tt.want, "invariant") && !errors.As(err, &u) {
				t.Errorf("err %T, want *Unsupported", err)
			}
		})
	}
}

func TestDur(t *testing.T) {
	for d, want := range map[scenarios.Duration]string{0: "0", 3e9: "3 * time.Second", 1580e6: "1580 * time.Millisecond", 1500: "time.Duration(1500)", 2e3: "2 * time.Microsecond"} {
		if got := dur(d); got != want {
			t.Errorf("dur(%d) = %q, want %q", d, got, want)
		}
	}
}

// TestGoBackpressure: a queue on a peer's uplink brings the backpressure
// section and its import, and only then.
func TestGoBackpressure(t *testing.T) {
	sc := base()
	plain, err := Go(sc, Options{Finding: "F9", Invariant: "harness.no-wedge"})
	if err != nil {
		t.Fatal(err)
	}
	sc.Topology.BackpressureB = &scenarios.Backpressure{QueueBytes: 8602, Rate: 487515, StallAfter: scenarios.Duration(2e9), StallUntil: scenarios.Duration(5e9)}
	src, err := Go(sc, Options{Finding: "F9", Invariant: "harness.no-wedge"})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(src)), " ")
	for _, w := range []string{`wrapNet: withBackpressure(map[string]queueConfig{ "B": {queueBytes: 8602, rate: 487515, stallAfter: 2 * time.Second, stallUntil: 5 * time.Second}, }),`, `"github.com/pion/transport/v5/deadline"`, "type queueConn struct"} {
		if !strings.Contains(text, w) {
			t.Errorf("the file lacks %q", w)
		}
	}
	if strings.Contains(string(plain), "queueConn") || strings.Contains(string(plain), "/deadline") {
		t.Errorf("a scenario without backpressure got the backpressure section")
	}
}
