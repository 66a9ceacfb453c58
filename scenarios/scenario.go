// Package scenarios describes closesim scenarios as pure data.
//
// A Scenario is a seed, a topology (two peers, A and B, on one virtual
// router), SettingEngine settings, a fault schedule and an ordered list of
// Steps, among them close actions. Scenarios are JSON-encodable and
// versioned; Validate reports the first problem with the field that holds it.
// This package does not import Pion: the sim package executes scenarios.
package scenarios

import (
	"encoding/json"
	"fmt"
	"time"
)

// Version is the schema version this package reads and writes.
const Version = 1

// Scenario is one run of the world: what to build and what to do in it.
type Scenario struct {
	// Version is the schema version; 0 is read as Version.
	Version int `json:"version"`
	// Name is a human label (a catalogue name or "gen-<seed>").
	Name string `json:"name,omitempty"`
	// Seed drives crypto randomness inside the bubble and every seeded choice.
	Seed uint64 `json:"seed"`
	// Phase is the close phase the scenario was built around (WithClose,
	// Generate), "" when it was not built from one: what reports group
	// results by. It is a label, not an instruction: the steps say what
	// runs.
	Phase Phase `json:"phase,omitempty"`
	// Topology describes the network between the peers.
	Topology Topology `json:"topology"`
	// Settings are the SettingEngine dimensions.
	Settings Settings `json:"settings"`
	// Faults is the fault schedule, fixed before the run starts.
	Faults Faults `json:"faults"`
	// Steps run in order on the harness goroutine.
	Steps []Step `json:"steps"`
	// Settle is the virtual time the world runs after the last step before
	// final states are recorded. Zero means DefaultSettle.
	Settle Duration `json:"settle,omitempty"`
}

// DefaultSettle is long enough for ICE consent failure with Pion's default
// timeouts (disconnected after 5 s, failed 25 s later).
const DefaultSettle = Duration(40 * time.Second)

// Topology is the virtual network: both peers on one router.
type Topology struct {
	// PortA and PortB are the single UDP ports each peer's ICE agent binds.
	// A one-port ephemeral range keeps SDP identical across runs (Pion picks a
	// start port with a process-global math/rand otherwise).
	PortA uint16 `json:"port_a"`
	PortB uint16 `json:"port_b"`
	// LinkDelay is the one-way delay the router adds to every packet.
	LinkDelay Duration `json:"link_delay,omitempty"`
	// BackpressureA and BackpressureB, when set, make that peer's writes
	// block behind a bounded queue.
	BackpressureA *Backpressure `json:"backpressure_a,omitempty"`
	BackpressureB *Backpressure `json:"backpressure_b,omitempty"`
	// NAT, when set, puts B behind a NAT (a child vnet router) of this type
	// (see NATTypes): A then reaches B only through the mapping B's own
	// connectivity checks open, as a peer-reflexive candidate.
	NAT NATType `json:"nat,omitempty"`
	// TURN puts a TURN relay (a pion/turn server) on the network, which both
	// peers list as their ICE server: relayed candidates, and allocations
	// a close must release.
	TURN bool `json:"turn,omitempty"`
	// ExtraIPs gives each peer a second address on its interface (A
	// 10.0.0.11, B 10.0.0.12, or 192.168.1.3 behind a NAT): two host
	// candidates per peer, and four candidate pairs to check and close.
	ExtraIPs bool `json:"extra_ips,omitempty"`
	// SFUClients makes A an SFU with this many more clients (C1, C2, ...
	// at 10.0.0.21, 10.0.0.22, ...), at most MaxSFUClients: A serves each
	// over a PeerConnection of its own, made from the same API as its
	// PeerConnection with B (and sharing its UDPMux), which the client
	// offers with one data channel. The scenario drives A and B only: its
	// close of either is the close of one connection among several.
	SFUClients int `json:"sfu_clients,omitempty"`
	// SFUCloseAll makes a close step on A close every connection of the
	// SFU at once, its clients' with B's, in the step's mode (needs
	// SFUClients).
	SFUCloseAll bool `json:"sfu_close_all,omitempty"`
}

// MaxSFUClients bounds Topology.SFUClients.
const MaxSFUClients = 4

// NATTypes are the NAT types of Topology.NAT (RFC 4787 behaviours):
// "full-cone" (endpoint-independent mapping and filtering), "restricted"
// (address-dependent filtering), "port-restricted" (address- and
// port-dependent filtering) and "symmetric" (address- and port-dependent
// mapping and filtering).
var allNATTypes = []NATType{NATFullCone, NATRestricted, NATPortRestricted, NATSymmetric}

// NATType is a NAT behaviour of Topology.NAT (see NATTypes).
type NATType string

// NAT types.
const (
	NATFullCone       NATType = "full-cone"
	NATRestricted     NATType = "restricted"
	NATPortRestricted NATType = "port-restricted"
	NATSymmetric      NATType = "symmetric"
)

// DTLSRole is the answerer's DTLS role (Settings.AnsweringDTLSRole).
type DTLSRole string

// DTLS roles; DTLSRoleDefault keeps Pion's (client).
const (
	DTLSRoleDefault DTLSRole = ""
	DTLSRoleClient  DTLSRole = "client"
	DTLSRoleServer  DTLSRole = "server"
)

// Settings are the SettingEngine dimensions of a scenario.
type Settings struct {
	// Trickle sends candidates one by one over signaling; without it, each
	// description is sent after gathering completes.
	Trickle bool `json:"trickle"`
	// DisableCloseByDTLS keeps a peer open when the remote sends a DTLS
	// close_notify: it then fails by ICE consent instead.
	DisableCloseByDTLS bool `json:"disable_close_by_dtls"`
	// ICEDisconnectedTimeout, ICEFailedTimeout and ICEKeepalive override
	// Pion's ICE timeouts (5 s, 25 s, 2 s) when non-zero.
	ICEDisconnectedTimeout Duration `json:"ice_disconnected_timeout,omitempty"`
	ICEFailedTimeout       Duration `json:"ice_failed_timeout,omitempty"`
	ICEKeepalive           Duration `json:"ice_keepalive,omitempty"`
	// AnsweringDTLSRole is the answerer's DTLS role: "" (Pion's default,
	// client), "client" or "server".
	AnsweringDTLSRole DTLSRole `json:"answering_dtls_role,omitempty"`
	// SCTPMaxMessageSize overrides the SCTP max message size when non-zero.
	SCTPMaxMessageSize uint32 `json:"sctp_max_message_size,omitempty"`
	// DetachDataChannels turns on SettingEngine.DetachDataChannels: every
	// data channel is detached in OnOpen and read through the detached
	// ReadWriteCloser by a goroutine of closesim's, instead of OnMessage.
	DetachDataChannels bool `json:"detach_data_channels,omitempty"`
	// SCTP and DTLS set the SettingEngine's SCTP and DTLS options (nil:
	// Pion's defaults).
	SCTP *SCTPOptions `json:"sctp,omitempty"`
	DTLS *DTLSOptions `json:"dtls,omitempty"`
	// NoDefaultInterceptors builds the peers' API without Pion's default
	// interceptors (NACK, RTCP reports, TWCC, ...), as an application
	// that passes its own, empty registry does.
	NoDefaultInterceptors bool `json:"no_default_interceptors,omitempty"`
	// UDPMux gathers each peer's host candidate through an ICE UDPMux
	// (SettingEngine.SetICEUDPMux) on the peer's port, which the
	// application, here the harness, closes after the PeerConnection.
	UDPMux bool `json:"udp_mux,omitempty"`
	// ICELiteB makes B an ICE-lite agent (SettingEngine.SetLite).
	ICELiteB bool `json:"ice_lite_b,omitempty"`
	// RelayOnly sets both peers' ICETransportPolicy to relay: only relayed
	// candidates (needs Topology.TURN).
	RelayOnly bool `json:"relay_only,omitempty"`
	// MultiUDPMux makes the UDPMux an ice.MultiUDPMuxDefault, one UDPMux
	// per address of the peer (ice.NewMultiUDPMuxFromPort), as Pion's
	// ice-single-port example builds it (needs UDPMux).
	MultiUDPMux bool `json:"multi_udp_mux,omitempty"`
	// CloseMuxFirst makes the application close a peer's UDPMux right
	// before that peer's scenario close, while the PeerConnection still
	// uses it: the shutdown order of a server that stops its shared socket
	// first (needs UDPMux).
	CloseMuxFirst bool `json:"close_mux_first,omitempty"`
	// TrickleOnly, with Trickle, makes only this peer ("A" or "B") trickle
	// its candidates; the other sends its descriptions after gathering
	// completes.
	TrickleOnly Peer `json:"trickle_only,omitempty"`
	// Interceptors, when not empty, registers exactly these interceptors
	// instead of Pion's defaults (see InterceptorNames), as an application
	// that picks its own does; "ccfb" (RFC 8888 congestion control
	// feedback) is not among the defaults.
	Interceptors []InterceptorName `json:"interceptors,omitempty"`
	// DetachedWrites sends on detached channels through the detached
	// ReadWriteCloser's Write rather than DataChannel.Send (needs
	// DetachDataChannels).
	DetachedWrites bool `json:"detached_writes,omitempty"`
	// DataChannelBlockWrite is SettingEngine.EnableDataChannelBlockWrite: a
	// detached channel's Write blocks while its buffered amount is high
	// (needs DetachDataChannels).
	DataChannelBlockWrite bool `json:"data_channel_block_write,omitempty"`
	// NoDataChannelHandlerB leaves B without an OnDataChannel handler: Pion's
	// default handler then closes every channel A opens.
	NoDataChannelHandlerB bool `json:"no_data_channel_handler_b,omitempty"`
	// DataChannelHandlerDelayB registers B's OnDataChannel handler only this
	// long after the run starts (virtual time): channels that arrive earlier
	// meet Pion's default handler, which closes them.
	DataChannelHandlerDelayB Duration `json:"data_channel_handler_delay_b,omitempty"`
}

// InterceptorName names an interceptor of Settings.Interceptors (see
// InterceptorNames).
type InterceptorName string

// Interceptors Settings.Interceptors can register: Pion's defaults one by
// one (webrtc.ConfigureNack, ConfigureRTCPReports,
// ConfigureSimulcastExtensionHeaders, ConfigureStatsInterceptor,
// ConfigureTWCCSender) and the RFC 8888 feedback sender
// (ConfigureCongestionControlFeedback).
const (
	InterceptorNACK        InterceptorName = "nack"
	InterceptorRTCPReports InterceptorName = "rtcp-reports"
	InterceptorSimulcast   InterceptorName = "simulcast-headers"
	InterceptorStats       InterceptorName = "stats"
	InterceptorTWCC        InterceptorName = "twcc"
	InterceptorCCFB        InterceptorName = "ccfb"
)

var allInterceptors = []InterceptorName{InterceptorNACK, InterceptorRTCPReports, InterceptorSimulcast,
	InterceptorStats, InterceptorTWCC, InterceptorCCFB}

// SCTPOptions are SettingEngine SCTP options; zero fields keep Pion's
// defaults.
type SCTPOptions struct {
	// MaxReceiveBufferSize is SetSCTPMaxReceiveBufferSize (bytes).
	MaxReceiveBufferSize uint32 `json:"max_receive_buffer_size,omitempty"`
	// RTOMax is SetSCTPRTOMax: the longest retransmission timeout.
	RTOMax Duration `json:"rto_max,omitempty"`
	// ZeroChecksum is EnableSCTPZeroChecksum (RFC 9653).
	ZeroChecksum bool `json:"zero_checksum,omitempty"`
	// MinCwnd is SetSCTPMinCwnd (bytes).
	MinCwnd uint32 `json:"min_cwnd,omitempty"`
}

// DTLSOptions are SettingEngine DTLS options; zero fields keep Pion's
// defaults.
type DTLSOptions struct {
	// RetransmissionInterval is SetDTLSRetransmissionInterval: the
	// handshake's first retransmission timeout.
	RetransmissionInterval Duration `json:"retransmission_interval,omitempty"`
	// ReplayProtectionWindow is SetDTLSReplayProtectionWindow (records).
	ReplayProtectionWindow uint `json:"replay_protection_window,omitempty"`
}

// Faults is the fault schedule of a scenario, fixed before the run.
type Faults struct {
	// SignalDelays is the delay of the i-th signaling message (offer, answer,
	// candidate), used cyclically; empty means no delay.
	SignalDelays []Duration `json:"signal_delays,omitempty"`
	// Packets are faults on one class of packets in one direction.
	Packets []PacketFault `json:"packets,omitempty"`
}

// PacketClasses are the packet classes a PacketFault can select (RFC 7983
// first-byte demultiplexing; DTLS by record content type).
var allPacketClasses = []PacketClass{ClassSTUN, ClassDTLSHandshake, ClassDTLSChangeCipherSpec, ClassDTLSAlert,
	ClassDTLSApplicationData, ClassDTLSOther, ClassSRTP, ClassSRTCP, ClassTURNChannel, ClassZRTP, ClassUnknown}

// PacketClass is a class of packets (see PacketClasses); "" selects every
// packet.
type PacketClass string

// Packet classes (internal/pktclass classifies packets into them).
const (
	ClassSTUN                 PacketClass = "stun"
	ClassDTLSHandshake        PacketClass = "dtls-handshake"
	ClassDTLSChangeCipherSpec PacketClass = "dtls-change-cipher-spec"
	ClassDTLSAlert            PacketClass = "dtls-alert"
	ClassDTLSApplicationData  PacketClass = "dtls-application-data"
	ClassDTLSOther            PacketClass = "dtls-other"
	ClassSRTP                 PacketClass = "srtp"
	ClassSRTCP                PacketClass = "srtcp"
	ClassTURNChannel          PacketClass = "turn-channel"
	ClassZRTP                 PacketClass = "zrtp"
	ClassUnknown              PacketClass = "unknown"
)

// FaultAction is what a PacketFault does to a packet.
type FaultAction string

// Fault actions.
const (
	FaultDrop      FaultAction = "drop"
	FaultDelay     FaultAction = "delay"
	FaultDuplicate FaultAction = "duplicate"
)

// PacketFault drops, delays or duplicates the packets of one class sent by
// one peer (or either), for the first N or from a virtual time on.
type PacketFault struct {
	// Class is one of PacketClasses, or "" for every packet.
	Class PacketClass `json:"class,omitempty"`
	// From is the sending peer, A or B, or "" for both directions.
	From Peer `json:"from,omitempty"`
	// Action is "drop", "delay" or "duplicate".
	Action FaultAction `json:"action"`
	// FirstN limits the fault to the first N packets it acts on; 0 = all.
	FirstN int `json:"first_n,omitempty"`
	// After limits the fault to packets sent at or after this virtual time.
	After Duration `json:"after,omitempty"`
	// Until, if not zero, ends the fault at this virtual time: with After it
	// is a window, e.g. a partition (class "", action drop) that heals;
	// From set makes it one-way.
	Until Duration `json:"until,omitempty"`
	// Delay is how long a delayed packet is held, or how long after the
	// original a duplicate follows (rounded up to whole milliseconds).
	Delay Duration `json:"delay,omitempty"`
	// Probability, if in (0, 1), applies the fault to each matching packet
	// with that probability, drawn from a generator seeded by the
	// scenario's seed (seeded loss with action drop); 0 means always.
	Probability float64 `json:"probability,omitempty"`
}

// Backpressure bounds a peer's UDP send queue and drains it at a rate in
// virtual time, so that writes block as with a full kernel buffer.
type Backpressure struct {
	QueueBytes int `json:"queue_bytes"`
	// Rate is in bytes per second.
	Rate int `json:"rate"`
	// StallAfter and StallUntil, when StallUntil is not zero, stop the
	// queue draining from StallAfter to StallUntil (virtual time since the
	// start), as an uplink that stops sending does: writes block until
	// the stall ends, a write deadline passes or the socket closes.
	StallAfter Duration `json:"stall_after,omitempty"`
	StallUntil Duration `json:"stall_until,omitempty"`
}

// SignalDelay returns the delay of the i-th signaling message.
func (f Faults) SignalDelay(i int) time.Duration {
	if len(f.SignalDelays) == 0 {
		return 0
	}
	return time.Duration(f.SignalDelays[i%len(f.SignalDelays)])
}

// Kind names what a Step does.
type Kind string

// Step kinds.
const (
	// KindCreateDataChannel creates a data channel (Label) on Peer.
	KindCreateDataChannel Kind = "create_data_channel"
	// KindOffer makes Peer create an offer, set it as its local description
	// and send it over signaling to the other peer.
	KindOffer Kind = "offer"
	// KindApplyOffer makes Peer wait for the offer and set it as its remote
	// description.
	KindApplyOffer Kind = "apply_offer"
	// KindAnswer makes Peer create an answer, set it locally and send it.
	KindAnswer Kind = "answer"
	// KindApplyAnswer makes Peer wait for the answer and set it as remote.
	KindApplyAnswer Kind = "apply_answer"
	// KindAwait waits until Peer reaches State, or Timeout of virtual time.
	KindAwait Kind = "await"
	// KindSend sends Count messages of Size bytes on Peer's data channel Label.
	KindSend Kind = "send"
	// KindSleep advances virtual time by Duration.
	KindSleep Kind = "sleep"
	// KindClose closes Peer's PeerConnection (Peer may be "both").
	KindClose Kind = "close"
	// KindCloseOn arms a close of Peer's PeerConnection from inside one of
	// its callbacks: the first time the callback On fires (with detail
	// State, if set), the handler itself calls Close.
	KindCloseOn Kind = "close_on"
	// KindCloseDataChannel closes Peer's data channel Label (Mode close or
	// graceful).
	KindCloseDataChannel Kind = "close_data_channel"
	// KindRollback sets a rollback local description on Peer.
	KindRollback Kind = "rollback"
	// KindCustom runs a handler registered with the sim package under Name
	// (test-only steps, user hooks).
	KindCustom Kind = "custom"
	// KindAddTrack adds a media track (Media "audio" or "video", id Label)
	// to Peer: with AddTrack when Direction is empty, else with
	// AddTransceiverFromTrack in Direction ("sendrecv" or "sendonly"), or,
	// for "recvonly", a receive-only transceiver of that kind with no track.
	// Negotiate afterwards (offer/answer steps) for it to flow.
	KindAddTrack Kind = "add_track"
	// KindWriteMedia writes Count media samples of Size bytes on Peer's
	// track Label, Duration apart in virtual time (0: back to back).
	KindWriteMedia Kind = "write_media"
	// KindRemoveTrack removes Peer's track Label (PeerConnection.RemoveTrack).
	KindRemoveTrack Kind = "remove_track"
	// KindStopTransceiver stops the transceiver of Peer's track Label
	// (RTPTransceiver.Stop).
	KindStopTransceiver Kind = "stop_transceiver"
)

// Media is the kind of an add_track step.
type Media string

// Media kinds of add_track.
const (
	MediaAudio Media = "audio"
	MediaVideo Media = "video"
)

// Direction is the transceiver direction of an add_track step.
type Direction string

// Directions of add_track; DirectionDefault uses PeerConnection.AddTrack.
const (
	DirectionDefault  Direction = ""
	DirectionSendRecv Direction = "sendrecv"
	DirectionSendOnly Direction = "sendonly"
	DirectionRecvOnly Direction = "recvonly"
)

// Directions of add_track; "" uses PeerConnection.AddTrack.
var allDirections = []Direction{DirectionDefault, DirectionSendRecv, DirectionSendOnly, DirectionRecvOnly}

// MaxSampleSize bounds Step.Size for write_media.
const MaxSampleSize = 64 << 10

// Callback names a PeerConnection or DataChannel callback, for close_on.
type Callback string

// Callbacks that close_on can close from.
const (
	OnICECandidate             Callback = "ice_candidate"
	OnICEConnectionStateChange Callback = "ice_connection_state"
	OnConnectionStateChange    Callback = "connection_state"
	OnSignalingStateChange     Callback = "signaling_state"
	OnICEGatheringStateChange  Callback = "ice_gathering_state"
	OnDataChannel              Callback = "data_channel"
	OnDataChannelOpen          Callback = "data_channel_open"
	OnDataChannelMessage       Callback = "data_channel_message"
	OnNegotiationNeeded        Callback = "negotiation_needed"
	OnDTLSStateChange          Callback = "dtls_state"
	OnTrack                    Callback = "track"
	OnBufferedAmountLow        Callback = "buffered_amount_low"
)

// Callbacks lists every callback close_on can use.
var allCallbacks = []Callback{OnICECandidate, OnICEConnectionStateChange, OnConnectionStateChange,
	OnSignalingStateChange, OnICEGatheringStateChange, OnDataChannel, OnDataChannelOpen,
	OnDataChannelMessage, OnNegotiationNeeded, OnDTLSStateChange, OnTrack, OnBufferedAmountLow}

// Kinds lists every step kind, in documentation order.
var allKinds = []Kind{KindCreateDataChannel, KindOffer, KindApplyOffer, KindAnswer, KindApplyAnswer,
	KindAwait, KindSend, KindSleep, KindClose, KindCloseOn, KindCloseDataChannel, KindRollback, KindCustom,
	KindAddTrack, KindWriteMedia, KindRemoveTrack, KindStopTransceiver}

// Peer names one peer, or both.
type Peer string

// Peers.
const (
	PeerA    Peer = "A"
	PeerB    Peer = "B"
	PeerBoth Peer = "both"
)

// Other returns the other peer of A or B.
func (p Peer) Other() Peer {
	if p == PeerA {
		return PeerB
	}
	return PeerA
}

// CloseMode is how a PeerConnection is closed.
type CloseMode string

// Close modes.
const (
	// ModeClose calls PeerConnection.Close.
	ModeClose CloseMode = "close"
	// ModeGraceful calls PeerConnection.GracefulClose, which also waits for
	// Pion's goroutines to finish.
	ModeGraceful CloseMode = "graceful"
)

// State names a condition KindAwait waits for: "<object>:<state>".
type State string

// Await targets.
const (
	StateICEChecking    State = "ice:checking"
	StateICEConnected   State = "ice:connected"
	StateDTLSConnecting State = "dtls:connecting"
	StateDTLSConnected  State = "dtls:connected"
	StatePCConnected    State = "pc:connected"
	StatePCFailed       State = "pc:failed"
	StatePCClosed       State = "pc:closed"
	StateDCOpen         State = "dc:open"
)

// States lists every await target.
var allStates = []State{StateICEChecking, StateICEConnected, StateDTLSConnecting, StateDTLSConnected,
	StatePCConnected, StatePCFailed, StatePCClosed, StateDCOpen}

// DefaultAwaitTimeout bounds an await step when Timeout is zero.
const DefaultAwaitTimeout = Duration(30 * time.Second)

// MaxMessageSize bounds Step.Size: above 64 KiB, as messages that need
// SCTP fragmentation and the remote's max-message-size matter.
const MaxMessageSize = 256 << 10

// MaxConcurrency bounds Step.Concurrency.
const MaxConcurrency = 64

// MaxYields bounds Step.Yields.
const MaxYields = 10000

// MaxCount bounds Step.Count.
const MaxCount = 100000

// Step is one action of a scenario. Which fields matter depends on Kind.
type Step struct {
	Kind Kind `json:"kind"`
	// Peer is who acts: "A", "B", or "both" for close.
	Peer Peer `json:"peer,omitempty"`
	// Label names the data channel (create_data_channel, send, await dc:open)
	// or the track (add_track and the media steps).
	Label string `json:"label,omitempty"`
	// Media is the kind of add_track: "audio" or "video".
	Media Media `json:"media,omitempty"`
	// Direction is the transceiver direction of add_track (see Directions).
	Direction Direction `json:"direction,omitempty"`
	// Simulcast makes a video add_track (default direction) send three
	// simulcast layers, RIDs "q", "h" and "f" (RTPSender.AddEncoding), with
	// the simulcast header extensions registered on both peers;
	// write_media writes each sample to every layer.
	Simulcast bool `json:"simulcast,omitempty"`
	// Count and Size describe messages for send, samples for write_media.
	Count int `json:"count,omitempty"`
	Size  int `json:"size,omitempty"`
	// State is the await target.
	State State `json:"state,omitempty"`
	// Timeout bounds await; zero means DefaultAwaitTimeout.
	Timeout Duration `json:"timeout,omitempty"`
	// Duration is the sleep length.
	Duration Duration `json:"duration,omitempty"`
	// Mode is the close mode.
	Mode CloseMode `json:"mode,omitempty"`
	// Name names the handler of a custom step.
	Name string `json:"name,omitempty"`
	// On is the callback of a close_on step; State optionally restricts it
	// to one detail (a state name such as "checking", or a label).
	On Callback `json:"on,omitempty"`
	// Concurrency is how many goroutines call Close at once in a close step
	// (0 or 1: one call per peer).
	Concurrency int `json:"concurrency,omitempty"`
	// ICERestart makes an offer step restart ICE.
	ICERestart bool `json:"ice_restart,omitempty"`
	// Channel holds the options of create_data_channel.
	Channel *ChannelOptions `json:"channel,omitempty"`
	// Immediate starts the step as soon as the previous step returned, after
	// Yields scheduler yields, instead of first letting the world go quiet.
	// It places the step inside one virtual instant, while goroutines that
	// the previous step woke are still running.
	Immediate bool `json:"immediate,omitempty"`
	// Yields is the number of runtime.Gosched calls before an Immediate step.
	Yields int `json:"yields,omitempty"`
	// Async runs the step on a goroutine of its own: the next step starts
	// without waiting for it (a close then races the call in flight, e.g.
	// a SetRemoteDescription). The harness waits for every async step
	// before settling. Only for AsyncKinds.
	Async bool `json:"async,omitempty"`
}

// AsyncKinds are the step kinds that may run async.
var allAsyncKinds = []Kind{KindOffer, KindApplyOffer, KindAnswer, KindApplyAnswer, KindRollback, KindSend,
	KindCloseDataChannel, KindWriteMedia, KindRemoveTrack, KindStopTransceiver}

// String renders a step in the compact form used by traces.
func (s Step) String() string {
	if s.Async {
		return s.text() + " (async)"
	}
	return s.text()
}

func (s Step) text() string {
	switch s.Kind {
	case KindCreateDataChannel:
		return fmt.Sprintf("%s %s %q", s.Peer, s.Kind, s.Label)
	case KindAwait:
		return fmt.Sprintf("%s await %s", s.Peer, s.State)
	case KindSend:
		return fmt.Sprintf("%s send %dx%dB on %q", s.Peer, s.Count, s.Size, s.Label)
	case KindSleep:
		return fmt.Sprintf("sleep %s", time.Duration(s.Duration))
	case KindClose:
		if s.Concurrency > 1 {
			return fmt.Sprintf("%s close(%s) x%d", s.Peer, s.Mode, s.Concurrency)
		}
		return fmt.Sprintf("%s close(%s)", s.Peer, s.Mode)
	case KindCustom:
		return fmt.Sprintf("%s custom %s", s.Peer, s.Name)
	case KindCloseOn:
		if s.State != "" {
			return fmt.Sprintf("%s close_on %s(%s)", s.Peer, s.On, s.State)
		}
		return fmt.Sprintf("%s close_on %s", s.Peer, s.On)
	case KindCloseDataChannel:
		return fmt.Sprintf("%s close_data_channel %q (%s)", s.Peer, s.Label, s.Mode)
	case KindAddTrack:
		if s.Direction != "" {
			return fmt.Sprintf("%s add_track %s %q %s", s.Peer, s.Media, s.Label, s.Direction)
		}
		return fmt.Sprintf("%s add_track %s %q", s.Peer, s.Media, s.Label)
	case KindWriteMedia:
		return fmt.Sprintf("%s write_media %dx%dB on %q", s.Peer, s.Count, s.Size, s.Label)
	case KindRemoveTrack, KindStopTransceiver:
		return fmt.Sprintf("%s %s %q", s.Peer, s.Kind, s.Label)
	case KindOffer:
		if s.ICERestart {
			return fmt.Sprintf("%s offer (ice restart)", s.Peer)
		}
	}
	return fmt.Sprintf("%s %s", s.Peer, s.Kind)
}

// ChannelOptions are the RTCDataChannelInit options of create_data_channel.
type ChannelOptions struct {
	// Unordered turns off in-order delivery.
	Unordered bool `json:"unordered,omitempty"`
	// MaxRetransmits and MaxPacketLifeTime (milliseconds) make the channel
	// partially reliable; at most one may be set.
	MaxRetransmits    *uint16 `json:"max_retransmits,omitempty"`
	MaxPacketLifeTime *uint16 `json:"max_packet_lifetime,omitempty"`
	// Negotiated with ID: the application negotiates the channel out of band
	// (both peers must create it with the same ID).
	Negotiated bool    `json:"negotiated,omitempty"`
	ID         *uint16 `json:"id,omitempty"`
	// BufferedAmountLowThreshold, if not zero, is set on the channel
	// (SetBufferedAmountLowThreshold); OnBufferedAmountLow is then traced and
	// can be closed from (close_on buffered_amount_low).
	BufferedAmountLowThreshold uint64 `json:"buffered_amount_low_threshold,omitempty"`
}

// Duration is a time.Duration that encodes in JSON as a Go duration string
// ("1.5s") and decodes from such a string or from integer nanoseconds.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration must be a string like \"1.5s\" or integer nanoseconds, got %s", b)
	}
	*d = Duration(n)
	return nil
}
