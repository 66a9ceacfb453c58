// Package export writes a scenario as a standalone Go test: a reproducer a
// Pion maintainer can run with nothing but Pion and the standard library.
//
// The test builds the same two peers on a pion/transport vnet network in a
// testing/synctest bubble that closesim's sim package builds, runs the
// scenario's steps written out as code, one call per step, and then makes
// the one check of the finding's invariant (closed states, no callback
// after close, a bounded close, no leaked goroutine, no wedge). It fails
// while the bug is present and passes once it is fixed. A wedge cannot be
// unwound inside a bubble: the test reports it after a wall-time stall with
// every goroutine's stack, as go test's -timeout does, instead of hanging.
//
// Export covers the scenario language that a reproducer's world can build
// in a few hundred lines; for the rest (TURN, backpressure, UDP muxes,
// packet delays and duplicates, seeded loss, SFU topologies, custom steps)
// it returns an error naming the field, and closesim's own replay remains
// the reproducer.
package export

import (
	"bytes"
	_ "embed" // harness.go.txt
	"fmt"
	"go/format"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/closesim/closesim/scenarios"
)

//go:embed harness.go.txt
var harness string

// backpressure is the harness section for topology.backpressure_a/b.
//
//go:embed backpressure.go.txt
var backpressure string

// turnSection is the harness section for topology.turn.
//
//go:embed turn.go.txt
var turnSection string

// simulcastSection is the harness section for simulcast add_track steps.
//
//go:embed simulcast.go.txt
var simulcastSection string

// Checks maps the invariants an exported test can check to the harness
// function that checks it.
var Checks = map[string]string{
	"local.closed-states":            "checkClosedStates",
	"events.no-activity-after-close": "checkNoActivityAfterClose",
	"close.returns-bounded":          "checkCloseBounded",
	"leak.goroutines":                "checkNoLeakedGoroutines",
	"harness.no-wedge":               "checkNoWedge",
	"api.rejected-after-close":       "checkRejectedAfterClose",
	"remote.sctp-closed-after-abort": "checkSCTPClosedAfterAbort",
	"remote.consent-failure":         "checkConsentFailure",
	"leak.turn-allocations":          "checkNoTURNAllocations",
}

// Options say what to export.
type Options struct {
	// Finding names the finding ("F2"); the test is Test<Finding>.
	Finding string
	// Invariant is the invariant whose violation is the finding: a key of
	// Checks.
	Invariant string
	// Package is the Go package name of the file (default "repro").
	Package string
	// Source names the scenario file, for the file's comment.
	Source string
	// Note describes the finding in one line, for the file's comment.
	Note string
}

// Unsupported is the error for a scenario that uses what export cannot
// write out.
type Unsupported struct {
	// Field is the scenario field, as a JSON path ("topology.turn").
	Field string
}

func (e *Unsupported) Error() string {
	return fmt.Sprintf("%s: export cannot write this out yet (replay it with closesim instead)", e.Field)
}

// Go returns the standalone test file for sc.
func Go(sc scenarios.Scenario, o Options) ([]byte, error) {
	check, ok := Checks[o.Invariant]
	if !ok {
		return nil, fmt.Errorf("invariant %q: export can check only %s", o.Invariant, strings.Join(sortedChecks(), ", "))
	}
	if o.Finding == "" || !isIdent(o.Finding) {
		return nil, fmt.Errorf("finding %q: want a Go identifier such as F2", o.Finding)
	}
	if o.Package == "" {
		o.Package = "repro"
	}
	if err := supported(sc); err != nil {
		return nil, err
	}
	if o.Invariant == "leak.turn-allocations" && !sc.Topology.TURN {
		return nil, fmt.Errorf("invariant %s: the scenario has no TURN relay (topology.turn)", o.Invariant)
	}
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("// Reproducer for closesim finding %s (invariant %s), written by closesim export from %s.\n", o.Finding, o.Invariant, o.Source)
	if o.Note != "" {
		p("//\n// %s\n", o.Note)
	}
	p("//\n// It needs only Pion and the standard library (Go 1.25 or later, for testing/synctest):\n")
	p("//\n//\tgo test -run '^Test%s$' -v\n//\n", o.Finding)
	p("// It fails while the bug is present and passes once it is fixed; it runs the scenario up to ten\n")
	p("// times (run_1...) and stops at the first run that meets the bug, as some close races are the Go\n")
	p("// scheduler's to decide. Edit it freely: the scenario's steps are the calls in Test%s, and the\n", o.Finding)
	p("// world they run in is written out below them.\n")
	p("package %s\n\n", o.Package)
	bp := sc.Topology.BackpressureA != nil || sc.Topology.BackpressureB != nil
	extraImports := ""
	if bp {
		extraImports += "\t\"github.com/pion/transport/v5/deadline\"\n"
	}
	if sc.Topology.TURN {
		extraImports += "\tmrand \"math/rand/v2\"\n\t\"github.com/pion/turn/v5\"\n"
	}
	simulcast := slices.ContainsFunc(sc.Steps, func(s scenarios.Step) bool { return s.Simulcast })
	if simulcast {
		extraImports += "\t\"github.com/pion/rtp\"\n\t\"github.com/pion/sdp/v3\"\n"
	}
	b.WriteString(`import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/big"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/cryptotest"
	"testing/synctest"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/transport/v5"
` + extraImports + `	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/rtcerr"
)

`)
	p("func Test%s(t *testing.T) {\n", o.Finding)
	p("\tcfg := reproConfig{\n")
	p("\t\tseed: %d, portA: %d, portB: %d,\n", sc.Seed, sc.Topology.PortA, sc.Topology.PortB)
	if d := sc.Topology.LinkDelay; d != 0 {
		p("\t\tlinkDelay: %s,\n", dur(d))
	}
	if sc.Topology.NAT != "" {
		p("\t\tnat: %q,\n", sc.Topology.NAT)
	}
	t := sc.Topology
	flags := []struct {
		on   bool
		line string
	}{
		{t.ExtraIPs, "extraIPs: true,"},
		{sc.Settings.UDPMux, "udpMux: true,"},
		{sc.Settings.MultiUDPMux, "multiMux: true,"},
		{sc.Settings.CloseMuxFirst, "closeMuxFirst: true,"},
		{t.TURN, "startRelay: startTURN, iceServers: turnServers,"},
		{sc.Settings.RelayOnly, "relayOnly: true,"},
		{sc.Settings.ICELiteB, "iceLiteB: true,"},
		{simulcast, "writeLayers: writeSimulcast,"},
		{simulcast && !slices.Contains(sc.Settings.Interceptors, scenarios.InterceptorSimulcast), "simulcast: true,"},
	}
	for _, f := range flags {
		if f.on {
			p("\t\t%s\n", f.line)
		}
	}
	if names := sc.Settings.Interceptors; len(names) > 0 {
		p("\t\tregisterInterceptors: func(me *webrtc.MediaEngine, reg *interceptor.Registry) error {\n")
		for _, n := range names {
			p("\t\t\tif err := %s; err != nil {\n\t\t\t\treturn err\n\t\t\t}\n", interceptorCalls[n])
		}
		p("\t\t\treturn nil\n\t\t},\n")
	}
	if bp {
		p("\t\twrapNet: withBackpressure(map[string]queueConfig{\n")
		for _, q := range []struct {
			peer string
			b    *scenarios.Backpressure
		}{{"A", sc.Topology.BackpressureA}, {"B", sc.Topology.BackpressureB}} {
			if q.b == nil {
				continue
			}
			p("\t\t\t%q: {queueBytes: %d, rate: %d", q.peer, q.b.QueueBytes, q.b.Rate)
			if q.b.StallUntil != 0 {
				p(", stallAfter: %s, stallUntil: %s", dur(q.b.StallAfter), dur(q.b.StallUntil))
			}
			p("},\n")
		}
		p("\t\t}),\n")
	}
	st := sc.Settings
	if st.Trickle {
		p("\t\ttrickle: true,\n")
		if st.TrickleOnly != "" {
			p("\t\ttrickleOnly: %q,\n", st.TrickleOnly)
		}
	}
	if len(sc.Faults.SignalDelays) > 0 {
		var ds []string
		for _, d := range sc.Faults.SignalDelays {
			ds = append(ds, dur(d))
		}
		p("\t\tsignalDelays: []time.Duration{%s},\n", strings.Join(ds, ", "))
	}
	if len(sc.Faults.Packets) > 0 {
		p("\t\tfaults: []packetFault{\n")
		for i, f := range sc.Faults.Packets {
			fields := []string{fmt.Sprintf("action: %q", f.Action)}
			if f.Class != "" {
				fields = append(fields, fmt.Sprintf("class: %q", f.Class))
			}
			if f.From != "" {
				fields = append(fields, fmt.Sprintf("from: %q", f.From))
			}
			if f.FirstN > 0 {
				fields = append(fields, fmt.Sprintf("firstN: %d", f.FirstN))
			}
			if f.After != 0 {
				fields = append(fields, "after: "+dur(f.After))
			}
			if f.Until != 0 {
				fields = append(fields, "until: "+dur(f.Until))
			}
			if f.Delay != 0 {
				fields = append(fields, "delay: "+dur(f.Delay))
			}
			if f.Probability != 0 {
				// closesim's seed for fault i's draws
				fields = append(fields, fmt.Sprintf("probability: %v, seed: %#x", f.Probability, sc.Seed^uint64(i)<<32))
			}
			p("\t\t\t{%s},\n", strings.Join(fields, ", "))
		}
		p("\t\t},\n")
	}
	if lines := settingLines(st); len(lines) > 0 {
		p("\t\tsettings: func(peer string, se *webrtc.SettingEngine) {\n")
		for _, l := range lines {
			p("\t\t\t%s\n", l)
		}
		p("\t\t},\n")
	}
	if !st.NoDefaultInterceptors {
		p("\t\tinterceptors: true,\n")
	}
	if st.NoDataChannelHandlerB {
		p("\t\tnoDCHandlerB: true,\n")
	}
	if st.DetachDataChannels {
		p("\t\tdetach: true,\n")
	}
	settle := time.Duration(sc.Settle)
	if settle == 0 {
		settle = time.Duration(scenarios.DefaultSettle)
	}
	p("\t\tsettle: %s,\n", dur(scenarios.Duration(settle)))
	if o.Invariant == "leak.goroutines" {
		p("\t\tprobeFirst: true,\n")
	}
	p("\t}\n")
	p("\trunRepro(t, cfg, func(w *world) {\n")
	for i, s := range sc.Steps {
		call, err := stepCall(s, st)
		if err != nil {
			return nil, fmt.Errorf("steps[%d]: %w", i, err)
		}
		p("\t\t// #%d %s\n", i, s)
		p("\t\tw.step(%v, %d, %v, func() error { return %s })\n", s.Immediate, s.Yields, s.Async, call)
	}
	p("\t}, %s)\n}\n\n", check)
	b.WriteString(harness)
	if bp {
		b.WriteString(backpressure)
	}
	if sc.Topology.TURN {
		b.WriteString(turnSection)
	}
	if simulcast {
		b.WriteString(simulcastSection)
	}
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("format the generated test: %w", err)
	}
	return out, nil
}

// supported returns an *Unsupported for the first field of sc export
// cannot write out.
func supported(sc scenarios.Scenario) error {
	t, st := sc.Topology, sc.Settings
	checks := []struct {
		bad   bool
		field string
	}{
		{t.SFUClients > 0, "topology.sfu_clients"},
		{st.DataChannelHandlerDelayB != 0, "settings.data_channel_handler_delay_b"},
	}
	for _, c := range checks {
		if c.bad {
			return &Unsupported{Field: c.field}
		}
	}
	for i, s := range sc.Steps {
		switch {
		case s.Kind == scenarios.KindCustom:
			return &Unsupported{Field: fmt.Sprintf("steps[%d].kind %q", i, s.Kind)}
		}
	}
	return nil
}

// settingLines are the SettingEngine calls of st, as code.
func settingLines(st scenarios.Settings) []string {
	var out []string
	if st.DisableCloseByDTLS {
		out = append(out, "se.DisableCloseByDTLS(true)")
	}
	if st.ICEDisconnectedTimeout != 0 || st.ICEFailedTimeout != 0 || st.ICEKeepalive != 0 {
		or := func(d scenarios.Duration, def time.Duration) string {
			if d == 0 {
				return dur(scenarios.Duration(def))
			}
			return dur(d)
		}
		out = append(out, fmt.Sprintf("se.SetICETimeouts(%s, %s, %s)", or(st.ICEDisconnectedTimeout, 5*time.Second),
			or(st.ICEFailedTimeout, 25*time.Second), or(st.ICEKeepalive, 2*time.Second)))
	}
	switch st.AnsweringDTLSRole {
	case scenarios.DTLSRoleClient:
		out = append(out, "_ = se.SetAnsweringDTLSRole(webrtc.DTLSRoleClient)")
	case scenarios.DTLSRoleServer:
		out = append(out, "_ = se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer)")
	}
	if st.SCTPMaxMessageSize != 0 {
		out = append(out, fmt.Sprintf("se.SetSCTPMaxMessageSize(%d)", st.SCTPMaxMessageSize))
	}
	if o := st.SCTP; o != nil {
		if o.MaxReceiveBufferSize != 0 {
			out = append(out, fmt.Sprintf("se.SetSCTPMaxReceiveBufferSize(%d)", o.MaxReceiveBufferSize))
		}
		if o.RTOMax != 0 {
			out = append(out, fmt.Sprintf("se.SetSCTPRTOMax(%s)", dur(o.RTOMax)))
		}
		if o.ZeroChecksum {
			out = append(out, "se.EnableSCTPZeroChecksum(true)")
		}
		if o.MinCwnd != 0 {
			out = append(out, fmt.Sprintf("se.SetSCTPMinCwnd(%d)", o.MinCwnd))
		}
	}
	if o := st.DTLS; o != nil {
		if o.RetransmissionInterval != 0 {
			out = append(out, fmt.Sprintf("se.SetDTLSRetransmissionInterval(%s)", dur(o.RetransmissionInterval)))
		}
		if o.ReplayProtectionWindow != 0 {
			out = append(out, fmt.Sprintf("se.SetDTLSReplayProtectionWindow(%d)", o.ReplayProtectionWindow))
		}
	}
	if st.DataChannelBlockWrite {
		out = append(out, "se.EnableDataChannelBlockWrite(true)")
	}
	if st.ICELiteB {
		out = append(out, `if peer == "B" {`, "se.SetLite(true)", "}")
	}
	return out
}

// stepCall is the world method call that runs s.
func stepCall(s scenarios.Step, st scenarios.Settings) (string, error) {
	peer := strconv.Quote(string(s.Peer))
	label := strconv.Quote(s.Label)
	switch s.Kind {
	case scenarios.KindCreateDataChannel:
		var low uint64
		if s.Channel != nil {
			low = s.Channel.BufferedAmountLowThreshold
		}
		return fmt.Sprintf("w.createDataChannel(%s, %s, %s, %d)", peer, label, channelInit(s.Channel), low), nil
	case scenarios.KindOffer:
		return fmt.Sprintf("w.offer(%s, %v)", peer, s.ICERestart), nil
	case scenarios.KindAnswer:
		return fmt.Sprintf("w.answer(%s)", peer), nil
	case scenarios.KindApplyOffer, scenarios.KindApplyAnswer:
		return fmt.Sprintf("w.apply(%s)", peer), nil
	case scenarios.KindRollback:
		return fmt.Sprintf("w.rollback(%s)", peer), nil
	case scenarios.KindAwait:
		timeout := s.Timeout
		if timeout == 0 {
			timeout = scenarios.DefaultAwaitTimeout
		}
		state := string(s.State)
		if s.State == scenarios.StateDCOpen {
			state += "/" + s.Label
		}
		return fmt.Sprintf("w.await(%s, %q, %s)", peer, state, dur(timeout)), nil
	case scenarios.KindSend:
		return fmt.Sprintf("w.sendMessages(%s, %s, %d, %d, %v)", peer, label, s.Count, s.Size, st.DetachedWrites), nil
	case scenarios.KindCloseDataChannel:
		return fmt.Sprintf("w.closeDataChannel(%s, %s, %v)", peer, label, s.Mode == scenarios.ModeGraceful), nil
	case scenarios.KindAddTrack:
		return fmt.Sprintf("w.addTrack(%s, %s, %q, %q, %v)", peer, label, s.Media, s.Direction, s.Simulcast), nil
	case scenarios.KindWriteMedia:
		return fmt.Sprintf("w.writeMedia(%s, %s, %d, %d, %s)", peer, label, s.Count, s.Size, dur(s.Duration)), nil
	case scenarios.KindRemoveTrack:
		return fmt.Sprintf("w.removeTrack(%s, %s)", peer, label), nil
	case scenarios.KindStopTransceiver:
		return fmt.Sprintf("w.stopTransceiver(%s, %s)", peer, label), nil
	case scenarios.KindSleep:
		return fmt.Sprintf("func() error { time.Sleep(%s); return nil }()", dur(s.Duration)), nil
	case scenarios.KindClose:
		return fmt.Sprintf("w.closePeers(%s, %v, %d)", peer, s.Mode == scenarios.ModeGraceful, max(s.Concurrency, 1)), nil
	case scenarios.KindCloseOn:
		return fmt.Sprintf("w.closeOn(%s, %q, %q)", peer, s.On, s.State), nil
	}
	return "", &Unsupported{Field: fmt.Sprintf("kind %q", s.Kind)}
}

// interceptorCalls register each of scenarios' interceptors as code.
var interceptorCalls = map[scenarios.InterceptorName]string{
	scenarios.InterceptorNACK:        "webrtc.ConfigureNack(me, reg)",
	scenarios.InterceptorRTCPReports: "webrtc.ConfigureRTCPReports(reg)",
	scenarios.InterceptorSimulcast:   "webrtc.ConfigureSimulcastExtensionHeaders(me)",
	scenarios.InterceptorStats:       "webrtc.ConfigureStatsInterceptor(reg)",
	scenarios.InterceptorTWCC:        "webrtc.ConfigureTWCCSender(me, reg)",
	scenarios.InterceptorCCFB:        "webrtc.ConfigureCongestionControlFeedback(me, reg)",
}

// channelInit is the DataChannelInit literal of o ("nil" for none).
func channelInit(o *scenarios.ChannelOptions) string {
	if o == nil {
		return "nil"
	}
	var fields []string
	if o.Unordered {
		fields = append(fields, "Ordered: ptr(false)")
	}
	if o.MaxRetransmits != nil {
		fields = append(fields, fmt.Sprintf("MaxRetransmits: ptr(uint16(%d))", *o.MaxRetransmits))
	}
	if o.MaxPacketLifeTime != nil {
		fields = append(fields, fmt.Sprintf("MaxPacketLifeTime: ptr(uint16(%d))", *o.MaxPacketLifeTime))
	}
	if o.Negotiated {
		fields = append(fields, "Negotiated: ptr(true)")
		if o.ID != nil {
			fields = append(fields, fmt.Sprintf("ID: ptr(uint16(%d))", *o.ID))
		}
	}
	return "&webrtc.DataChannelInit{" + strings.Join(fields, ", ") + "}"
}

// dur writes d as a Go duration expression.
func dur(d scenarios.Duration) string {
	t := time.Duration(d)
	switch {
	case t == 0:
		return "0"
	case t%time.Second == 0:
		return fmt.Sprintf("%d * time.Second", t/time.Second)
	case t%time.Millisecond == 0:
		return fmt.Sprintf("%d * time.Millisecond", t/time.Millisecond)
	case t%time.Microsecond == 0:
		return fmt.Sprintf("%d * time.Microsecond", t/time.Microsecond)
	}
	return fmt.Sprintf("time.Duration(%d)", t)
}

func isIdent(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

func sortedChecks() []string {
	out := make([]string, 0, len(Checks))
	for k := range Checks {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
