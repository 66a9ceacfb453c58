package facts

import "time"

// BrowserRun is one run of a close scenario between a Pion peer and headless
// Chromium (closesim browser). It ran in real time against a real browser:
// not deterministic, so runs are repeated and reported as frequencies.
type BrowserRun struct {
	// Seed and Name identify the scenario; Rep is the repetition (0-based).
	Seed uint64 `json:"seed"`
	Name string `json:"name"`
	Rep  int    `json:"rep"`
	// Offerer is "pion" or "browser"; Phase the close point; Closer who
	// closes ("pion" or "browser") and Mode how ("close", "graceful" for
	// Pion's GracefulClose, "tab" for the browser's tab closing).
	Offerer string `json:"offerer"`
	Phase   string `json:"phase"`
	Closer  string `json:"closer"`
	Mode    string `json:"mode"`
	// On is the handler a "callback" close ran inside
	// (scenarios.BrowserScenario.On).
	On string `json:"on,omitempty"`
	// Skew bounds the error of aligning the two clocks (half the DevTools
	// round trip that read the page's clock): an event of the other side
	// can be off by that much against the close call.
	Skew time.Duration `json:"skew_ns,omitempty"`
	// Window is how long both sides were observed after the close call
	// before their final states were read, as measured (a close from a
	// handler can fire before the harness starts its window).
	Window time.Duration `json:"window_ns,omitempty"`
	// PionUser is set when a user's factory built the Pion side (the
	// service under test, sim.WithBrowserPeer): its handlers may have
	// replaced closesim's recording ones.
	PionUser bool `json:"pion_user,omitempty"`
	// Pion and Browser are what each side observed.
	Pion    BrowserSide `json:"pion"`
	Browser BrowserSide `json:"browser"`
	// Wedge is set when a Pion Close did not return within the run's bound
	// (a close from inside a handler that deadlocks, say): the run stops
	// there, and Wedge diagnoses the process's goroutines.
	Wedge *Wedge `json:"wedge,omitempty"`
	// Err is a harness error (a step that failed before the close).
	Err string `json:"err,omitempty"`
}

// BrowserSide is one side's view of a browser run.
type BrowserSide struct {
	// Events are the side's callbacks and marks, times relative to the
	// moment the close was called (negative: before it).
	Events []BrowserEvent `json:"events"`
	// Before are the closer's states just before its close was called (nil
	// for the side that did not close).
	Before *PeerState `json:"before,omitempty"`
	// AtReturn are the closer's states the moment its close returned (nil
	// for the side that did not close, and for a closed tab).
	AtReturn *PeerState `json:"at_return,omitempty"`
	// Final are the side's states at the end of the observation window
	// (nil for a closed tab).
	Final *PeerState `json:"final,omitempty"`
	// Stats are, for the browser, getStats()'s transport entries at the
	// end of the window ("transport id: dtlsState/iceState"); nil for Pion.
	Stats []string `json:"stats,omitempty"`
	// Noticed is how long after the close call the side that did not close
	// first reported it (a data channel close, or its connection leaving
	// connected); -1 if it did not within the observation window.
	Noticed time.Duration `json:"noticed_ns"`
	// NoticedBy is the event that noticed it ("dc close", "pc closed", ...).
	NoticedBy string `json:"noticed_by,omitempty"`
	// CloseTook is how long the closer's close call took.
	CloseTook time.Duration `json:"close_took_ns,omitempty"`
	// Probes are, for the closer, what each method W3C guards with
	// [[IsClosed]] did when called after the close (by its JavaScript name:
	// "createOffer" ...): "no error", or the error's name, where the spec
	// asks for "InvalidStateError".
	Probes map[string]string `json:"probes,omitempty"`
}

// BrowserEvent is one thing a side saw.
type BrowserEvent struct {
	At     time.Duration `json:"at_ns"`
	Kind   string        `json:"kind"`
	Detail string        `json:"detail,omitempty"`
}
