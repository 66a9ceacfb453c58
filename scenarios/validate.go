package scenarios

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// FieldError is a validation failure: the JSON path of the bad field and why.
type FieldError struct {
	// Field is the JSON path, e.g. "steps[3].count".
	Field string
	// Reason says what is wrong, e.g. "must be >= 0, got -1".
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Limits on durations, so that a scenario always ends in bounded virtual time.
const (
	maxSignalDelay = Duration(time.Minute)
	maxLinkDelay   = Duration(10 * time.Second)
	maxSleep       = Duration(10 * time.Minute)
	maxSettle      = Duration(10 * time.Minute)
	maxSteps       = 1000
	maxDelays      = 1024
	minPort        = 1024
)

// Validate reports the first problem with sc as a *FieldError, or nil.
// It checks ranges and also order: a step may only use what an earlier step
// created (an offer before it is applied, a data channel before it is used).
// A valid scenario never makes the sim panic or hang on its own account.
func Validate(sc *Scenario) error {
	if sc == nil {
		return errors.New("scenario is nil")
	}
	if sc.Version != 0 && sc.Version != Version {
		return fieldErr("version", "unsupported schema version %d (this build reads %d)", sc.Version, Version)
	}
	if sc.Phase != "" && !slices.Contains(allPhases, sc.Phase) {
		return fieldErr("phase", "unknown close phase %q (known: %v)", sc.Phase, allPhases)
	}
	if err := validateTopology(sc.Topology); err != nil {
		return err
	}
	if err := validateSettings(sc.Settings); err != nil {
		return err
	}
	if sc.Settings.RelayOnly && !sc.Topology.TURN {
		return fieldErr("settings.relay_only", "needs a relay: set topology.turn")
	}
	if err := validateSettingDeps(sc.Settings); err != nil {
		return err
	}
	if len(sc.Faults.SignalDelays) > maxDelays {
		return fieldErr("faults.signal_delays", "at most %d entries, got %d", maxDelays, len(sc.Faults.SignalDelays))
	}
	for i, d := range sc.Faults.SignalDelays {
		if err := checkDuration(fmt.Sprintf("faults.signal_delays[%d]", i), d, maxSignalDelay); err != nil {
			return err
		}
	}
	for i, f := range sc.Faults.Packets {
		if err := validatePacketFault(fmt.Sprintf("faults.packets[%d]", i), f); err != nil {
			return err
		}
	}
	if err := checkDuration("settle", sc.Settle, maxSettle); err != nil {
		return err
	}
	if len(sc.Steps) > maxSteps {
		return fieldErr("steps", "at most %d steps, got %d", maxSteps, len(sc.Steps))
	}
	v := validator{labels: map[string]bool{}, done: map[Peer]map[Kind]bool{PeerA: {}, PeerB: {}},
		tracks: map[Peer]map[string]Direction{PeerA: {}, PeerB: {}}}
	for i := range sc.Steps {
		if err := v.step(fmt.Sprintf("steps[%d]", i), sc.Steps[i]); err != nil {
			return err
		}
	}
	return nil
}

func validateSettings(s Settings) error {
	for _, f := range []struct {
		name string
		d    Duration
	}{{"ice_disconnected_timeout", s.ICEDisconnectedTimeout}, {"ice_failed_timeout", s.ICEFailedTimeout}, {"ice_keepalive", s.ICEKeepalive}} {
		if err := checkDuration("settings."+f.name, f.d, Duration(time.Minute)); err != nil {
			return err
		}
	}
	switch s.AnsweringDTLSRole {
	case "", "client", "server":
	default:
		return fieldErr("settings.answering_dtls_role", "must be \"client\" or \"server\", got %q", s.AnsweringDTLSRole)
	}
	if s.SCTPMaxMessageSize != 0 && s.SCTPMaxMessageSize < 1024 {
		return fieldErr("settings.sctp_max_message_size", "must be 0 (Pion's default) or at least 1024, got %d", s.SCTPMaxMessageSize)
	}
	if o := s.SCTP; o != nil {
		if o.MaxReceiveBufferSize != 0 && (o.MaxReceiveBufferSize < 1500 || o.MaxReceiveBufferSize > 64<<20) {
			return fieldErr("settings.sctp.max_receive_buffer_size", "must be 0 (Pion's default) or 1500..%d, got %d", 64<<20, o.MaxReceiveBufferSize)
		}
		if err := checkDuration("settings.sctp.rto_max", o.RTOMax, Duration(time.Minute)); err != nil {
			return err
		}
		if o.RTOMax != 0 && o.RTOMax < Duration(100*time.Millisecond) {
			return fieldErr("settings.sctp.rto_max", "must be 0 (Pion's default) or at least 100ms, got %s", time.Duration(o.RTOMax))
		}
		if o.MinCwnd > 1<<20 {
			return fieldErr("settings.sctp.min_cwnd", "must be at most %d, got %d", 1<<20, o.MinCwnd)
		}
	}
	if o := s.DTLS; o != nil {
		if err := checkDuration("settings.dtls.retransmission_interval", o.RetransmissionInterval, Duration(10*time.Second)); err != nil {
			return err
		}
		if o.RetransmissionInterval != 0 && o.RetransmissionInterval < Duration(10*time.Millisecond) {
			return fieldErr("settings.dtls.retransmission_interval", "must be 0 (Pion's default) or at least 10ms, got %s", time.Duration(o.RetransmissionInterval))
		}
		if o.ReplayProtectionWindow > 1<<16 {
			return fieldErr("settings.dtls.replay_protection_window", "must be at most %d, got %d", 1<<16, o.ReplayProtectionWindow)
		}
	}
	return nil
}

// validateSettingDeps checks the settings that only mean something with
// another one.
func validateSettingDeps(s Settings) error {
	switch {
	case s.MultiUDPMux && !s.UDPMux:
		return fieldErr("settings.multi_udp_mux", "needs settings.udp_mux")
	case s.CloseMuxFirst && !s.UDPMux:
		return fieldErr("settings.close_mux_first", "needs settings.udp_mux")
	case s.TrickleOnly != "" && s.TrickleOnly != PeerA && s.TrickleOnly != PeerB:
		return fieldErr("settings.trickle_only", "must be A, B or empty, got %q", s.TrickleOnly)
	case s.TrickleOnly != "" && !s.Trickle:
		return fieldErr("settings.trickle_only", "needs settings.trickle")
	case len(s.Interceptors) > 0 && s.NoDefaultInterceptors:
		return fieldErr("settings.interceptors", "exclusive with settings.no_default_interceptors (an empty list already means none but the defaults)")
	case s.DetachedWrites && !s.DetachDataChannels:
		return fieldErr("settings.detached_writes", "needs settings.detach_data_channels")
	case s.DataChannelBlockWrite && !s.DetachDataChannels:
		return fieldErr("settings.data_channel_block_write", "needs settings.detach_data_channels (Pion blocks only detached writes)")
	case s.NoDataChannelHandlerB && s.DataChannelHandlerDelayB != 0:
		return fieldErr("settings.data_channel_handler_delay_b", "exclusive with settings.no_data_channel_handler_b")
	}
	for i, n := range s.Interceptors {
		if !slices.Contains(allInterceptors, n) {
			return fieldErr(fmt.Sprintf("settings.interceptors[%d]", i), "unknown interceptor %q (known: %v)", n, allInterceptors)
		}
		if slices.Index(s.Interceptors, n) < i {
			return fieldErr(fmt.Sprintf("settings.interceptors[%d]", i), "%q is listed twice", n)
		}
	}
	return checkDuration("settings.data_channel_handler_delay_b", s.DataChannelHandlerDelayB, maxSleep)
}

func validatePacketFault(path string, f PacketFault) error {
	if f.Class != "" && !slices.Contains(allPacketClasses, f.Class) {
		return fieldErr(path+".class", "unknown packet class %q (known: %v)", f.Class, allPacketClasses)
	}
	if f.From != "" && f.From != PeerA && f.From != PeerB {
		return fieldErr(path+".from", "must be A, B or empty, got %q", f.From)
	}
	switch f.Action {
	case "drop", "delay", "duplicate":
	default:
		return fieldErr(path+".action", "must be drop, delay or duplicate, got %q", f.Action)
	}
	if err := checkCount(path+".first_n", f.FirstN, MaxCount); err != nil {
		return err
	}
	if err := checkDuration(path+".after", f.After, maxSleep); err != nil {
		return err
	}
	if err := checkDuration(path+".until", f.Until, maxSleep); err != nil {
		return err
	}
	if f.Until != 0 && f.Until <= f.After {
		return fieldErr(path+".until", "must be later than after (%s), got %s", time.Duration(f.After), time.Duration(f.Until))
	}
	if !(f.Probability >= 0 && f.Probability <= 1) {
		return fieldErr(path+".probability", "must be between 0 and 1, got %v", f.Probability)
	}
	return checkDuration(path+".delay", f.Delay, maxLinkDelay)
}

func validateBackpressure(path string, b *Backpressure) error {
	if b == nil {
		return nil
	}
	if b.QueueBytes < 1500 || b.QueueBytes > 64<<20 {
		return fieldErr(path+".queue_bytes", "must be between 1500 and 64 MiB, got %d", b.QueueBytes)
	}
	if b.Rate < 1000 || b.Rate > 1<<30 {
		return fieldErr(path+".rate", "must be between 1000 and 1 GiB/s, got %d", b.Rate)
	}
	if err := checkDuration(path+".stall_after", b.StallAfter, maxSleep); err != nil {
		return err
	}
	if err := checkDuration(path+".stall_until", b.StallUntil, maxSleep); err != nil {
		return err
	}
	if b.StallUntil != 0 && b.StallUntil <= b.StallAfter {
		return fieldErr(path+".stall_until", "must be later than stall_after (%s), got %s", time.Duration(b.StallAfter), time.Duration(b.StallUntil))
	}
	if b.StallUntil == 0 && b.StallAfter != 0 {
		return fieldErr(path+".stall_after", "only meaningful with stall_until")
	}
	return nil
}

func validateTopology(t Topology) error {
	if err := validateBackpressure("topology.backpressure_a", t.BackpressureA); err != nil {
		return err
	}
	if err := validateBackpressure("topology.backpressure_b", t.BackpressureB); err != nil {
		return err
	}
	if t.NAT != "" && !slices.Contains(allNATTypes, t.NAT) {
		return fieldErr("topology.nat", "unknown NAT type %q (known: %v)", t.NAT, allNATTypes)
	}
	if t.PortA < minPort {
		return fieldErr("topology.port_a", "must be >= %d, got %d", minPort, t.PortA)
	}
	if t.PortB < minPort {
		return fieldErr("topology.port_b", "must be >= %d, got %d", minPort, t.PortB)
	}
	if err := checkCount("topology.sfu_clients", t.SFUClients, MaxSFUClients); err != nil {
		return err
	}
	if t.SFUCloseAll && t.SFUClients == 0 {
		return fieldErr("topology.sfu_close_all", "needs topology.sfu_clients")
	}
	if int(t.PortA)+t.SFUClients > 65535 {
		return fieldErr("topology.sfu_clients", "A's connections use ports port_a..port_a+%d, past 65535", t.SFUClients)
	}
	return checkDuration("topology.link_delay", t.LinkDelay, maxLinkDelay)
}

func checkDuration(field string, d, maxD Duration) error {
	if d < 0 || d > maxD {
		return fieldErr(field, "must be between 0 and %s, got %s", time.Duration(maxD), time.Duration(d))
	}
	return nil
}

func checkCount(field string, n, maxN int) error {
	if n < 0 || n > maxN {
		return fieldErr(field, "must be between 0 and %d, got %d", maxN, n)
	}
	return nil
}

// validator tracks what earlier steps created.
type validator struct {
	labels map[string]bool
	done   map[Peer]map[Kind]bool
	tracks map[Peer]map[string]Direction // peer -> track label -> direction
}

func (v *validator) step(path string, s Step) error {
	switch s.Peer {
	case PeerA, PeerB:
	case PeerBoth:
		if s.Kind != KindClose {
			return fieldErr(path+".peer", "%q is only allowed for close steps", s.Peer)
		}
	case "":
		if s.Kind != KindSleep && s.Kind != KindCustom {
			return fieldErr(path+".peer", "required for %s steps (A or B)", s.Kind)
		}
	default:
		return fieldErr(path+".peer", "no such peer %q (the topology has A and B)", s.Peer)
	}
	if s.Kind != KindCloseOn && s.On != "" {
		return fieldErr(path+".on", "only meaningful for close_on steps")
	}
	if s.Kind != KindAddTrack && s.Media != "" {
		return fieldErr(path+".media", "only meaningful for add_track steps")
	}
	if s.Kind != KindAddTrack && s.Direction != "" {
		return fieldErr(path+".direction", "only meaningful for add_track steps")
	}
	if s.Simulcast && (s.Kind != KindAddTrack || s.Media != MediaVideo || s.Direction != DirectionDefault) {
		return fieldErr(path+".simulcast", "only meaningful for a video add_track step of the default direction")
	}
	if err := checkCount(path+".yields", s.Yields, MaxYields); err != nil {
		return err
	}
	if s.Async && !slices.Contains(allAsyncKinds, s.Kind) {
		return fieldErr(path+".async", "%s steps cannot run async (only %v)", s.Kind, allAsyncKinds)
	}
	if s.Yields > 0 && !s.Immediate {
		return fieldErr(path+".yields", "only meaningful with \"immediate\": true")
	}
	switch s.Kind {
	case KindCreateDataChannel:
		if s.Label == "" {
			return fieldErr(path+".label", "required for create_data_channel")
		}
		if o := s.Channel; o != nil {
			if o.MaxRetransmits != nil && o.MaxPacketLifeTime != nil {
				return fieldErr(path+".channel", "max_retransmits and max_packet_lifetime are exclusive")
			}
			if o.Negotiated != (o.ID != nil) {
				return fieldErr(path+".channel.id", "a negotiated channel needs an id, and only a negotiated one may have one")
			}
			if o.ID != nil && *o.ID > 65534 {
				return fieldErr(path+".channel.id", "must be at most 65534, got %d", *o.ID)
			}
		}
		v.labels[s.Label] = true
	case KindOffer:
	case KindApplyOffer:
		if !v.done[s.Peer.Other()][KindOffer] {
			return fieldErr(path+".kind", "apply_offer on %s needs an earlier offer step on %s", s.Peer, s.Peer.Other())
		}
	case KindAnswer:
		if !v.done[s.Peer][KindApplyOffer] {
			return fieldErr(path+".kind", "answer on %s needs an earlier apply_offer step on %s", s.Peer, s.Peer)
		}
	case KindApplyAnswer:
		if !v.done[s.Peer.Other()][KindAnswer] {
			return fieldErr(path+".kind", "apply_answer on %s needs an earlier answer step on %s", s.Peer, s.Peer.Other())
		}
	case KindAwait:
		if err := v.await(path, s); err != nil {
			return err
		}
	case KindSend:
		if !v.labels[s.Label] {
			return fieldErr(path+".label", "data channel %q is not created by an earlier step", s.Label)
		}
		if err := checkCount(path+".count", s.Count, MaxCount); err != nil {
			return err
		}
		if err := checkCount(path+".size", s.Size, MaxMessageSize); err != nil {
			return err
		}
	case KindSleep:
		if err := checkDuration(path+".duration", s.Duration, maxSleep); err != nil {
			return err
		}
	case KindClose:
		if s.Mode != ModeClose && s.Mode != ModeGraceful {
			return fieldErr(path+".mode", "must be %q or %q, got %q", ModeClose, ModeGraceful, s.Mode)
		}
		if err := checkCount(path+".concurrency", s.Concurrency, MaxConcurrency); err != nil {
			return err
		}
	case KindCloseOn:
		if !slices.Contains(allCallbacks, s.On) {
			return fieldErr(path+".on", "unknown callback %q (known: %v)", s.On, allCallbacks)
		}
		if s.Mode != ModeClose {
			return fieldErr(path+".mode", "close_on needs mode %q: Pion documents GracefulClose as unsafe inside its callbacks", ModeClose)
		}
	case KindCloseDataChannel:
		if !v.labels[s.Label] {
			return fieldErr(path+".label", "data channel %q is not created by an earlier step", s.Label)
		}
		if s.Mode != ModeClose && s.Mode != ModeGraceful {
			return fieldErr(path+".mode", "must be %q or %q, got %q", ModeClose, ModeGraceful, s.Mode)
		}
	case KindAddTrack:
		if s.Label == "" {
			return fieldErr(path+".label", "required for add_track (the track id)")
		}
		if _, dup := v.tracks[s.Peer][s.Label]; dup {
			return fieldErr(path+".label", "peer %s already has a track %q", s.Peer, s.Label)
		}
		if s.Media != MediaAudio && s.Media != MediaVideo {
			return fieldErr(path+".media", "must be %q or %q, got %q", MediaAudio, MediaVideo, s.Media)
		}
		if !slices.Contains(allDirections, s.Direction) {
			return fieldErr(path+".direction", "unknown direction %q (known: %q)", s.Direction, allDirections)
		}
		v.tracks[s.Peer][s.Label] = s.Direction
	case KindWriteMedia, KindRemoveTrack, KindStopTransceiver:
		dir, ok := v.tracks[s.Peer][s.Label]
		if !ok {
			return fieldErr(path+".label", "peer %s has no track %q added by an earlier add_track step", s.Peer, s.Label)
		}
		if s.Kind != KindStopTransceiver && dir == DirectionRecvOnly {
			return fieldErr(path+".label", "track %q of peer %s is a recvonly transceiver: nothing to %s", s.Label, s.Peer, s.Kind)
		}
		if s.Kind == KindWriteMedia {
			if err := checkCount(path+".count", s.Count, MaxCount); err != nil {
				return err
			}
			if err := checkCount(path+".size", s.Size, MaxSampleSize); err != nil {
				return err
			}
			if err := checkDuration(path+".duration", s.Duration, maxSleep); err != nil {
				return err
			}
		}
	case KindRollback:
	case KindCustom:
		if s.Name == "" {
			return fieldErr(path+".name", "required for custom steps")
		}
	case "":
		return fieldErr(path+".kind", "missing")
	default:
		return fieldErr(path+".kind", "unknown step kind %q (known: %v)", s.Kind, allKinds)
	}
	if s.Peer == PeerA || s.Peer == PeerB {
		v.done[s.Peer][s.Kind] = true
	}
	return nil
}

func (v *validator) await(path string, s Step) error {
	known := false
	for _, st := range allStates {
		known = known || st == s.State
	}
	if !known {
		return fieldErr(path+".state", "unknown await state %q (known: %v)", s.State, allStates)
	}
	if s.State == StateDCOpen && !v.labels[s.Label] {
		return fieldErr(path+".label", "data channel %q is not created by an earlier step", s.Label)
	}
	return checkDuration(path+".timeout", s.Timeout, maxSleep)
}
