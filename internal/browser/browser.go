// Package browser drives headless Chromium as a WebRTC peer over the
// DevTools protocol (github.com/chromedp/chromedp): one RTCPeerConnection
// per tab, created and driven by closesim's own page script, which records
// every state change and event the page sees with its time. Signaling goes
// through the DevTools session: an offer or answer is a value an
// evaluation returns, so no HTTP server is needed.
//
// Only 127.0.0.1 candidates are exchanged in either direction (the page
// filters its own and the remote's SDP), and Chromium runs with loopback
// allowed in peer connections and mDNS host candidates off, so that no
// packet is addressed to anything but loopback.
//
// This mode runs in real time against a real browser: it is not
// deterministic, and its callers repeat each scenario and report how often
// each outcome occurred.
package browser

import (
	"context"
	_ "embed" // page.js
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/chromedp/chromedp"
)

//go:embed page.js
var pageJS string

// ErrNoChromium is returned by Find when no Chromium binary is found.
var ErrNoChromium = errors.New("no Chromium found (install Debian's chromium package, or set CLOSESIM_CHROMIUM to its path)")

// Find returns the path of the Chromium binary: $CLOSESIM_CHROMIUM, or the
// first of chromium, chromium-browser, google-chrome on $PATH.
func Find() (string, error) {
	if p := os.Getenv("CLOSESIM_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("CLOSESIM_CHROMIUM: %w", err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Browser is one headless Chromium process.
type Browser struct {
	ctx    context.Context
	cancel func()
	dir    string
}

// Launch starts headless Chromium at path with a fresh profile. Close
// ends it.
func Launch(path string) (*Browser, error) {
	dir, err := os.MkdirTemp("", "closesim-chromium-")
	if err != nil {
		return nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.UserDataDir(dir), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		// Loopback candidates are skipped unless allowed; mDNS would hide
		// the host address behind a .local name.
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// The first Run starts the browser.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`true`)); err != nil {
		cancel()
		acancel()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	return &Browser{ctx: ctx, cancel: func() { cancel(); acancel() }, dir: dir}, nil
}

// Close ends the browser and removes its profile.
func (b *Browser) Close() error {
	b.cancel()
	return os.RemoveAll(b.dir)
}

// Peer is one RTCPeerConnection in a tab of its own.
type Peer struct {
	ctx    context.Context
	cancel func()
}

// NewPeer opens a tab, loads closesim's page script and creates its
// RTCPeerConnection.
func (b *Browser) NewPeer() (*Peer, error) {
	ctx, cancel := chromedp.NewContext(b.ctx)
	p := &Peer{ctx: ctx, cancel: cancel}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](pageJS)); err != nil {
		cancel()
		return nil, fmt.Errorf("load the page script: %w", err)
	}
	if err := p.call("cs.create()", nil); err != nil {
		cancel()
		return nil, err
	}
	return p, nil
}

// Close closes the peer's tab (what a user closing it does: the page's
// connection ends without its close()).
func (p *Peer) Close() { p.cancel() }

// call evaluates expr in the page, awaiting a Promise, and decodes its
// value into out (nil: discard). A call that takes more than 30 s fails.
func (p *Peer) call(expr string, out any) error {
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return fmt.Errorf("browser: %s: %w", expr, err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("browser: %s: decode %s: %w", expr, raw, err)
	}
	return nil
}

// Description is an SDP offer or answer.
type Description struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

// CreateDataChannel creates a data channel.
func (p *Peer) CreateDataChannel(label string) error {
	return p.call(fmt.Sprintf("cs.createDataChannel(%q)", label), nil)
}

// Offer creates an offer, sets it and returns it once gathering completed
// (loopback candidates only).
func (p *Peer) Offer() (Description, error) {
	var d Description
	err := p.call("cs.describe(true)", &d)
	return d, err
}

// Answer creates an answer, sets it and returns it once gathering completed.
func (p *Peer) Answer() (Description, error) {
	var d Description
	err := p.call("cs.describe(false)", &d)
	return d, err
}

// Apply sets d as the remote description.
func (p *Peer) Apply(d Description) error {
	js, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return p.call(fmt.Sprintf("cs.apply(%s)", js), nil)
}

// Send sends n messages of size bytes on channel label.
func (p *Peer) Send(label string, n, size int) error {
	return p.call(fmt.Sprintf("cs.send(%q, %d, %d)", label, n, size), nil)
}

// CloseChannel closes data channel label.
func (p *Peer) CloseChannel(label string) error {
	return p.call(fmt.Sprintf("cs.closeChannel(%q)", label), nil)
}

// CloseOn arms a close from inside the page's handler of event on
// ("connection_state", "ice_connection_state", "signaling_state",
// "data_channel", "dc_open", "dc_message", ...), the first time it fires
// with detail state (any, if empty).
func (p *Peer) CloseOn(on, state string) error {
	return p.call(fmt.Sprintf("cs.closeOn(%q, %q)", on, state), nil)
}

// ClosePC calls the page's RTCPeerConnection.close().
func (p *Peer) ClosePC() error { return p.call("cs.close()", nil) }

// Probe calls, after close, the methods the W3C spec guards with
// [[IsClosed]] and returns what each did: "no error" or the error's name
// ("InvalidStateError" is what the spec asks).
func (p *Peer) Probe() (map[string]string, error) {
	var out map[string]string
	err := p.call("cs.probe()", &out)
	return out, err
}

// Mark records a mark event in the page and returns its page time (ms).
func (p *Peer) Mark(name string) (float64, error) {
	var t float64
	err := p.call(fmt.Sprintf("cs.mark(%q)", name), &t)
	return t, err
}

// WaitOpen waits up to timeout for data channel label to be open, or the
// page's connection to be closed (a close armed in a handler fired).
func (p *Peer) WaitOpen(label string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var open bool
		if err := p.call(fmt.Sprintf("cs.closedAt >= 0 || !!(cs.channels[%q] && cs.channels[%q].readyState === 'open')", label, label), &open); err != nil {
			return err
		}
		if open {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("browser: data channel %q not open within %s", label, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Event is one thing the page saw: at T ms after the page started.
type Event struct {
	T      float64 `json:"t"`
	Kind   string  `json:"kind"`   // "pc", "ice", "signaling", "gathering", "dc open", "close call", ...
	Detail string  `json:"detail"` // the new state, or the channel's label
	// Transport numbers the SCTP transport (and its DTLS transport) an
	// "sctp" or "dtls" event is about, 1 for the first the page saw: with
	// BUNDLE the answer's transport replaces the offer's, which closes.
	Transport int `json:"transport,omitempty"`
}

// State is the page's view of its connection at one moment.
type State struct {
	T            float64 `json:"t"`
	Signaling    string  `json:"signaling"`
	Connection   string  `json:"connection"`
	ICE          string  `json:"ice"`
	Gathering    string  `json:"gathering"`
	SCTP         string  `json:"sctp"`
	DTLS         string  `json:"dtls"`
	ICETransport string  `json:"iceTransport"`
	// Transport is the current SCTP transport's number (Event.Transport).
	Transport    int            `json:"transport"`
	Channels     []ChannelState `json:"channels"`
	Transceivers []Transceiver  `json:"transceivers"`
}

// Transceiver is one RTCRtpTransceiver: its mid, its receiver's track kind,
// its direction and currentDirection ("" before negotiation).
type Transceiver struct {
	Mid              string `json:"mid"`
	Kind             string `json:"kind"`
	Direction        string `json:"direction"`
	CurrentDirection string `json:"currentDirection"`
}

// ChannelState is a data channel's readyState.
type ChannelState struct {
	Label string `json:"label"`
	State string `json:"state"`
}

// Record is everything the page recorded.
type Record struct {
	Events []Event `json:"events"`
	// State is the page's states now.
	State State `json:"state"`
	// BeforeClose is the states just before the page called close() (nil
	// if it did not close).
	BeforeClose *State `json:"beforeClose"`
	// AfterClose is the states the moment the page's close() returned
	// (nil if it did not close).
	AfterClose *State `json:"afterClose"`
	// ClosedAt is when the page's close() returned (-1: it did not).
	ClosedAt float64 `json:"closedAt"`
	// Stats are getStats()'s transport entries now.
	Stats []TransportStats `json:"stats"`
}

// TransportStats is one RTCTransportStats: its id and the DTLS and ICE
// states it reports ("" where Chromium leaves a field out).
type TransportStats struct {
	ID        string `json:"id"`
	DTLSState string `json:"dtlsState"`
	ICEState  string `json:"iceState"`
}

// Record returns what the page recorded so far.
func (p *Peer) Record() (Record, error) {
	var r Record
	err := p.call("cs.record()", &r)
	return r, err
}

// State returns the page's states now.
func (p *Peer) State() (State, error) {
	var st State
	err := p.call("cs.state()", &st)
	return st, err
}

// AddTransceiver adds a transceiver of kind ("audio" or "video"), with no
// track.
func (p *Peer) AddTransceiver(kind string) error {
	return p.call(fmt.Sprintf("cs.addTransceiver(%q)", kind), nil)
}

// StopTransceivers stops every transceiver of the page's connection.
func (p *Peer) StopTransceivers() error { return p.call("cs.stopTransceivers()", nil) }
