// Package facts is the vocabulary every layer above the world speaks: the
// Observation a run records (its trace of typed events, state tuples,
// close snapshots, probes, leaks and wedge) as plain data. The world (sim)
// fills it; the judges (invariants, coverage), the views (report, the CLI)
// and the suite read it. It imports nothing of Pion, so what reads an
// Observation never links Pion.
package facts

import (
	"slices"
	"time"

	"github.com/closesim/closesim/scenarios"
)

// Outcome is how a run ended, from the harness's point of view. Judging
// final states is the invariants package's job; the outcome only says
// whether the world itself ended cleanly.
type Outcome string

// Outcomes, from best to worst.
const (
	// OutcomeOK: every step ran, the world settled, nothing was left behind.
	OutcomeOK Outcome = "ok"
	// OutcomeLeak: goroutines (see Observation.Leaks) or sockets (see
	// Observation.OpenSockets) outlived the close and the settle period.
	OutcomeLeak Outcome = "leak"
	// OutcomeDeadlock: every goroutine of the bubble blocked for good with no
	// timer pending (synctest's "all goroutines in bubble are blocked").
	OutcomeDeadlock Outcome = "deadlock"
	// OutcomeWedge: the bubble froze (every goroutine blocked, one or more
	// not durably: typically a mutex waiter whose holder waits on a fake
	// timer), a step never returned while the fake clock kept moving, or the
	// run did not end before the watchdog; Observation.Wedge says which
	// (Wedge.By) and diagnoses it.
	OutcomeWedge Outcome = "wedge"
	// OutcomePanic: a step or a handler panicked; see Observation.Panic.
	OutcomePanic Outcome = "panic"
	// OutcomeError: the harness could not build the world; see Observation.Error.
	OutcomeError Outcome = "error"
)

// Observation is everything a run recorded. It is plain data: it encodes as
// JSON and the invariants package judges it without importing Pion.
type Observation struct {
	// Scenario is the scenario that ran.
	Scenario scenarios.Scenario `json:"scenario"`
	// Outcome is how the run ended.
	Outcome Outcome `json:"outcome"`
	// Error describes a harness error (OutcomeError).
	Error string `json:"error,omitempty"`
	// Events is the trace.
	Events []Event `json:"events"`
	// TraceHash is OrderHash(Events).
	TraceHash string `json:"trace_hash"`
	// Offer and Answer are the SDPs that went over signaling (the last of
	// each), empty if none did.
	Offer  string `json:"offer,omitempty"`
	Answer string `json:"answer,omitempty"`
	// Steps has one result per executed step.
	Steps []StepResult `json:"steps"`
	// Closes has a snapshot of every close the scenario made: each close
	// step's (each of its K concurrent Close calls), each close from inside
	// a callback, in the order they started.
	Closes []CloseSnapshot `json:"closes"`
	// HarnessCloses are the harness's GracefulCloses of the peers the
	// scenario left open, after Final was taken.
	HarnessCloses []CloseSnapshot `json:"harness_closes,omitempty"`
	// Final holds the states of A and B after the settle period.
	Final []PeerState `json:"final"`
	// FinalAt is the virtual time at which Final was taken (0: it was not).
	FinalAt time.Duration `json:"final_at,omitempty"`
	// Probes are the results of API calls made on each closed peer after the
	// settle period (see APIProbe).
	Probes []APIProbe `json:"probes,omitempty"`
	// Packets counts the packets routed, per direction and class.
	Packets []PacketCount `json:"packets,omitempty"`
	// Parked is, per peer with backpressure, the most writers that were
	// parked at once on a full send queue.
	Parked map[string]int `json:"parked,omitempty"`
	// Leaks are the goroutines still in the bubble after the harness closed
	// everything and settled.
	Leaks []Goroutine `json:"leaks,omitempty"`
	// LateEvents are the events recorded during 10 idle virtual minutes
	// after the leak check: a pending timer or ticker that acted.
	LateEvents []Event `json:"late_events,omitempty"`
	// OpenSockets are the vnet sockets still bound at the same moment.
	OpenSockets []Socket `json:"open_sockets,omitempty"`
	// TURNAllocations counts the allocations the world's TURN relay
	// (Topology.TURN) still held at the same moment.
	TURNAllocations int `json:"turn_allocations,omitempty"`
	// SFU has one entry per client of A beyond B (Topology.SFUClients), in
	// client order.
	SFU []SFUConnection `json:"sfu,omitempty"`
	// UserPeers lists the peers built by a user's PeerFactory (WithPeer).
	// Their handlers may have replaced closesim's, so their trace can lack
	// callback events: judges that read a peer's callbacks then see fewer
	// of them and judge less for that peer (each needs the events it reads
	// to be present before it finds a violation).
	UserPeers []string `json:"user_peers,omitempty"`
	// Reports holds the values of the user's reporters (PeerEnv.Report),
	// read after the harness closed both peers and the world settled.
	Reports map[string]string `json:"reports,omitempty"`
	// FinalReports holds the same reporters' values read when Final was
	// taken, before the harness closed what the scenario left open: what
	// the service itself did about the states in Final.
	FinalReports map[string]string `json:"final_reports,omitempty"`
	// Wedge is set for OutcomeWedge and OutcomeDeadlock.
	Wedge *Wedge `json:"wedge,omitempty"`
	// Panic is the panic value and stack for OutcomePanic.
	Panic string `json:"panic,omitempty"`
	// FreezeDumps is how many goroutine dumps freeze detection took while
	// the run's trace was quiet (what detection cost; 0 with it off).
	FreezeDumps int `json:"freeze_dumps,omitempty"`
	// Unobserved lists the facts the run's world could not record (see
	// Fact): an invariant that needs one of them (invariants.Invariant.
	// Needs) is n/a for the run, never pass. Empty for closesim's own
	// world, which records them all.
	Unobserved []Fact `json:"unobserved,omitempty"`
	// Virtual is the virtual time the run took; Wall the real time.
	Virtual time.Duration `json:"virtual"`
	Wall    time.Duration `json:"wall"`
}

// StepResult is what one step did.
type StepResult struct {
	Index int           `json:"index"`
	Step  string        `json:"step"`
	At    time.Duration `json:"at"`
	Took  time.Duration `json:"took"`
	Err   string        `json:"err,omitempty"`
}

// PeerState is the state tuple of one peer: every object's state as Pion
// reports it through its getters.
type PeerState struct {
	Peer          string    `json:"peer"`
	Signaling     string    `json:"signaling"`
	Connection    string    `json:"connection"`
	ICEConnection string    `json:"ice_connection"`
	ICEGathering  string    `json:"ice_gathering"`
	ICETransport  string    `json:"ice_transport"`
	DTLS          string    `json:"dtls"`
	SCTP          string    `json:"sctp"`
	DataChannels  []DCState `json:"data_channels,omitempty"`
	// Tracks are the peer's media tracks: those it added, then those it
	// received.
	Tracks []TrackState `json:"tracks,omitempty"`
	// Transceivers are the peer's transceivers in Pion's order
	// (GetTransceivers); nil when there were none or they were not read
	// (inside a callback).
	Transceivers []TransceiverState `json:"transceivers,omitempty"`
	// RTCPByes counts the SSRCs the peer's RTCP BYE packets said goodbye
	// to, so far (counted by closesim's interceptor; always 0 for a peer a
	// user's factory built).
	RTCPByes int `json:"rtcp_byes,omitempty"`
}

// TransceiverState is one RTPTransceiver of a peer.
type TransceiverState struct {
	// Mid is the transceiver's mid ("" before negotiation).
	Mid string `json:"mid,omitempty"`
	// Kind is "audio" or "video".
	Kind string `json:"kind"`
	// Direction is RTPTransceiver.Direction(): "inactive" once stopped.
	Direction string `json:"direction"`
	// SenderTrack is the id of the sender's track (RTPSender.Track()), ""
	// for none.
	SenderTrack string `json:"sender_track,omitempty"`
	// Sent counts the media samples the harness wrote to that track.
	Sent int `json:"sent,omitempty"`
}

// StateUnknown is the value of a PeerState field that could not be read
// (inside a Pion callback, some getters would take locks the callback
// holds). It is never a state: judges skip it (see Known).
const StateUnknown = "?"

// Known reports whether s is a state that was read, not StateUnknown or
// empty.
func Known(s string) bool { return s != "" && s != StateUnknown }

// State names the judges compare: the String of Pion's state enums.
const (
	StateNew          = "new"
	StateChecking     = "checking"
	StateConnecting   = "connecting"
	StateConnected    = "connected"
	StateCompleted    = "completed"
	StateDisconnected = "disconnected"
	StateFailed       = "failed"
	StateClosed       = "closed"
	StateStable       = "stable"
	StateClosing      = "closing"
	StateOpen         = "open"
	StateInactive     = "inactive" // a stopped transceiver's direction
	StateRecvOnly     = "recvonly" // a transceiver direction
)

// TrackState is one media track of a peer.
type TrackState struct {
	// Label is the track id.
	Label string `json:"label"`
	// Local is true for a track the peer added (Packets counts samples
	// written), false for one it received (Packets counts RTP packets read).
	Local   bool   `json:"local,omitempty"`
	Kind    string `json:"kind"`
	Packets int    `json:"packets"`
}

// DCState is one data channel's state.
type DCState struct {
	Label string `json:"label"`
	State string `json:"state"`
	// Ordered and Reliable are the channel's delivery mode (Reliable: no
	// maxRetransmits and no maxPacketLifeTime).
	Ordered  bool `json:"ordered"`
	Reliable bool `json:"reliable"`
	// Detached is true once the channel was detached (DataChannel.Detach).
	Detached bool `json:"detached,omitempty"`
	// Sent counts messages this peer sent successfully; Received those it
	// received on the channel.
	Sent     int `json:"sent"`
	Received int `json:"received"`
	// ReceivedSeq lists the indices of received messages of 4 bytes or more
	// (each carries its index), in arrival order.
	ReceivedSeq []int `json:"received_seq,omitempty"`
	// Corrupt counts received messages whose payload did not match its index.
	Corrupt int `json:"corrupt,omitempty"`
}

// CloseSnapshot is one close of a peer: its states when the close started
// (Before) and the moment it returned (After).
type CloseSnapshot struct {
	// Step is the index of the close step or close_on step (-1 for the
	// harness's close).
	Step int    `json:"step"`
	Peer string `json:"peer"`
	// Mode is "close" (Close) or "graceful" (GracefulClose).
	Mode string `json:"mode"`
	// By says what started the close.
	By CloseBy       `json:"by,omitempty"`
	At time.Duration `json:"at"`
	// Before is the state tuple when the close started; After the tuple
	// read the moment it returned (nil if it never returned). A state that
	// cannot be read there (inside a callback, without Pion's locks) is
	// StateUnknown.
	Before PeerState  `json:"before"`
	After  *PeerState `json:"after,omitempty"`
	// Callback is the callback a close_on close ran inside ("" for a close
	// step).
	Callback string `json:"callback,omitempty"`
	// Took is the virtual time Close or GracefulClose took to return.
	Took time.Duration `json:"took"`
	Err  string        `json:"err,omitempty"`
}

// Goroutine is one goroutine left behind, with its stack.
type Goroutine struct {
	ID    int64  `json:"id"`
	State string `json:"state"`
	// Top is the first frame outside the runtime and sync packages.
	Top   string `json:"top"`
	Stack string `json:"stack"`
}

// Socket is a vnet socket still bound.
type Socket struct {
	Peer   string `json:"peer"`
	Kind   string `json:"kind"`
	Local  string `json:"local"`
	Remote string `json:"remote,omitempty"`
}

// Wedge describes a bubble that stopped making progress.
type Wedge struct {
	// Diagnosis names the goroutines blocked on mutexes and their likely
	// holders' timed waits, for people.
	Diagnosis string `json:"diagnosis"`
	// Headline is the diagnosis in one line: the first mutex waiter with
	// its likely holder, or where the harness is stuck.
	Headline string `json:"headline,omitempty"`
	// Goroutines are all goroutines of the bubble at detection.
	Goroutines []Goroutine `json:"goroutines"`
	// By says what declared the wedge (empty for OutcomeDeadlock, which
	// synctest itself reports).
	By WedgeDetector `json:"by,omitempty"`
	// Blocked lists the goroutines blocked on a mutex, with their likely
	// holders: what a known issue of a wedge matches on.
	Blocked []BlockedWait `json:"blocked,omitempty"`
	// Stuck lists the functions the harness's own goroutine is in, Pion's
	// included, innermost first: the step (and the call) that never returned.
	Stuck []string `json:"stuck,omitempty"`
}

// BlockedWait is one goroutine of a wedge blocked on a sync.Mutex or
// sync.RWMutex. Function lists are innermost first and leave out the
// runtime, sync and internal packages.
type BlockedWait struct {
	// Waiter lists the functions of the blocked goroutine.
	Waiter []string `json:"waiter"`
	// Lock is the blocking call, e.g. "sync.(*RWMutex).RLock".
	Lock string `json:"lock"`
	// Object identifies the lock: the receiver of the function that locks
	// (the DTLSTransport of DTLSTransport.Stop), or the lock's address when
	// the dump does not show the receiver; 0 if unknown. Two waits with the
	// same Object wait on a lock of the same object.
	Object uint64 `json:"object,omitempty"`
	// Holder lists the functions of the likely holder (gstack's
	// heuristics), nil if none was found.
	Holder []string `json:"holder,omitempty"`
}

// WedgeDetector names what declared a run wedged.
type WedgeDetector string

const (
	// WedgeByFreeze: the bubble was provably frozen, every goroutine
	// blocked and at least one not durably (two identical samples).
	WedgeByFreeze WedgeDetector = "freeze"
	// WedgeByDeadline: a step, or the harness's own close, did not return
	// within StepDeadline of virtual time while the fake clock kept moving
	// (tickers fire, but the call waits for something that never comes).
	WedgeByDeadline WedgeDetector = "deadline"
	// WedgeByWatchdog: the run had not finished when the wall-clock
	// watchdog fired (a run that keeps running, or freeze detection off).
	WedgeByWatchdog WedgeDetector = "watchdog"
)

// PacketCount is how many packets of one class went from one peer to the
// other.
type PacketCount struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Class   string `json:"class"`
	Packets int    `json:"packets"`
}

// SFUConnection is what the harness saw of one of A's SFU clients
// (Topology.SFUClients): the PeerConnection A serves it with ("A" side)
// and the client's own.
type SFUConnection struct {
	// Client names the client: "C1", "C2", ...
	Client string `json:"client"`
	// Up is true if the connection came up before the scenario's steps
	// started (the harness waits for it, up to 30 s of virtual time): A's
	// side connected, the channel open on both sides.
	Up bool `json:"up"`
	// Close is A's close of this connection by the scenario
	// (Topology.SFUCloseAll), nil if the scenario did not close it.
	Close *CloseSnapshot `json:"close,omitempty"`
	// ProbeSent is true if the client sent its probe message after the
	// scenario's steps (at the start of the settle period; it sends none
	// over a channel that is no longer open), ProbeDelivered if A's side
	// received it before Final was taken.
	ProbeSent      bool `json:"probe_sent,omitempty"`
	ProbeDelivered bool `json:"probe_delivered,omitempty"`
	// A and Remote are the two PeerConnections' states when Final was
	// taken (their Peer is "A~C1" and "C1").
	A      PeerState `json:"a"`
	Remote PeerState `json:"remote"`
}

// Fact names a kind of fact a world records about a run. closesim's bubble
// records them all; a world that cannot (a real browser in real time, see
// BrowserRun.Observation) lists the ones it lacks in
// Observation.Unobserved, so that an empty record of them is never read
// as "nothing went wrong".
type Fact string

// Facts a world can lack.
const (
	// FactPanics: a panic in a step, call or callback is caught and recorded
	// (Outcome panic, Panic).
	FactPanics Fact = "panics"
	// FactWedge: a run that stops making progress is detected (Outcome
	// wedge or deadlock, Wedge).
	FactWedge Fact = "wedge"
	// FactGoroutines: the goroutines left after teardown are counted
	// (Leaks).
	FactGoroutines Fact = "goroutines"
	// FactSockets: the sockets left bound after teardown are counted
	// (OpenSockets).
	FactSockets Fact = "sockets"
	// FactTimers: what acted during idle time after teardown is recorded
	// (LateEvents).
	FactTimers Fact = "timers"
	// FactTURN: the TURN relay's allocations are counted (TURNAllocations).
	FactTURN Fact = "turn"
	// FactDelivery: every data channel's messages sent and received, with
	// their order (DCState.Sent, Received, ReceivedSeq, Corrupt).
	FactDelivery Fact = "delivery"
	// FactCloserSide: the closing peer's own record from its close on (its
	// states when the close returned and at the end, its callbacks after
	// the call): missing when the closer is a browser tab that was closed,
	// whose page went with it.
	FactCloserSide Fact = "closer-side"
)

// Observes reports whether the run's world recorded facts of kind f.
func (o *Observation) Observes(f Fact) bool { return !slices.Contains(o.Unobserved, f) }
