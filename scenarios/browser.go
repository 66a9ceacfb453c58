package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
)

// BrowserScenario is a close scenario for closesim browser: a Pion peer and
// headless Chromium connect with one data channel, and one of them closes
// at a close phase, or from inside one of its event handlers.
type BrowserScenario struct {
	Seed uint64 `json:"seed"`
	// Offerer is "pion" or "browser"; it creates the data channel "dc".
	Offerer string `json:"offerer"`
	// Phase is one of BrowserPhases, or "on_" followed by On for a close
	// from inside a handler.
	Phase string `json:"phase"`
	// Closer is "pion" or "browser"; Mode is one of BrowserModes.
	Closer string `json:"closer"`
	Mode   string `json:"mode"`
	// On is, for Mode "callback", the handler the close runs inside (one of
	// BrowserHandlers: "event" or "event:state"), armed before the first
	// step, so that the connection is closed the first time it fires.
	On string `json:"on,omitempty"`
	// Messages is how many 1 KiB messages each side sends before a
	// mid_transfer close.
	Messages int `json:"messages"`
	// Audio makes the offerer add an audio transceiver (no track) before
	// its offer; StopFirst makes the closer stop its transceivers
	// (RTPTransceiver.Stop, RTCRtpTransceiver.stop()) just before a close
	// or graceful close of a connected peer.
	Audio     bool `json:"audio,omitempty"`
	StopFirst bool `json:"stop_first,omitempty"`
}

// BrowserPhases are the close points of a browser scenario, in order: after
// the offer was applied (no answer yet), right after the answer was applied
// (ICE and DTLS connecting), with the channel open and idle, and while both
// sides send.
func BrowserPhases() []string {
	return []string{"before_answer", "after_answer", "connected", "mid_transfer"}
}

// BrowserModes are the ways a side closes: "close" (PeerConnection.Close,
// RTCPeerConnection.close()), "graceful" (Pion's GracefulClose), "tab" (the
// browser's tab closes, no close() call), "callback" (close() from inside
// a handler, see BrowserHandlers) and "channel" (only the data channel is
// closed: DataChannel.Close, RTCDataChannel.close()).
func BrowserModes(closer string) []string {
	if closer == "pion" {
		return []string{"close", "graceful", "callback", "channel"}
	}
	return []string{"close", "tab", "callback", "channel"}
}

// BrowserHandlers are the handlers a "callback" close can run inside, each
// firing on both sides whichever offers: the signaling state going stable
// (the answer applied, or set), ICE connection and connection state
// connected, the DTLS transport connected, and the data channel opening.
func BrowserHandlers() []string {
	return []string{"signaling_state:stable", "ice_connection_state:connected", "connection_state:connected", "dtls_state:connected", "dc_open"}
}

// Handler splits On into the handler's event and the state it waits for
// ("" for any).
func (b BrowserScenario) Handler() (event, state string) {
	event, state, _ = strings.Cut(b.On, ":")
	return event, state
}

// Name labels the scenario as reports group it.
func (b BrowserScenario) Name() string {
	name := fmt.Sprintf("%s-offers/%s/%s-%s", b.Offerer, b.Phase, b.Closer, b.Mode)
	if b.Audio {
		name += "+audio"
	}
	if b.StopFirst {
		name += "+stop"
	}
	return name
}

// GenerateBrowser draws a browser scenario from seed: every combination of
// offerer, phase and closer (each mode of BrowserModes for each side) is
// equally likely; a callback close draws its handler instead of a phase,
// and a channel close a phase with the channel open. One scenario in three
// has an audio transceiver, which half the closes of a connected peer stop
// first.
func GenerateBrowser(seed uint64) BrowserScenario {
	r := rand.New(rand.NewPCG(seed, 0x62726f77)) // "brow"
	closer := []string{"pion", "browser"}[r.IntN(2)]
	modes := BrowserModes(closer)
	sc := BrowserScenario{
		Seed:     seed,
		Offerer:  []string{"pion", "browser"}[r.IntN(2)],
		Phase:    BrowserPhases()[r.IntN(len(BrowserPhases()))],
		Closer:   closer,
		Mode:     modes[r.IntN(len(modes))],
		Messages: 1 + r.IntN(50),
	}
	sc.Audio = r.IntN(3) == 0
	connected := sc.Phase == "connected" || sc.Phase == "mid_transfer"
	sc.StopFirst = sc.Audio && connected && (sc.Mode == "close" || sc.Mode == "graceful") && r.IntN(2) == 0
	switch sc.Mode {
	case "callback":
		hs := BrowserHandlers()
		sc.On = hs[r.IntN(len(hs))]
		sc.Phase = "on_" + strings.ReplaceAll(sc.On, ":", "_")
	case "channel":
		if sc.Phase == "before_answer" || sc.Phase == "after_answer" {
			sc.Phase = []string{"connected", "mid_transfer"}[r.IntN(2)]
		}
	}
	return sc
}

// Validate reports the first field of b that closesim browser cannot run.
func (b BrowserScenario) Validate() error {
	side := func(s string) bool { return s == "pion" || s == "browser" }
	switch {
	case !side(b.Offerer):
		return fmt.Errorf("offerer %q: want pion or browser", b.Offerer)
	case !side(b.Closer):
		return fmt.Errorf("closer %q: want pion or browser", b.Closer)
	case !slices.Contains(BrowserModes(b.Closer), b.Mode):
		return fmt.Errorf("mode %q: the %s closer's modes are %s", b.Mode, b.Closer, strings.Join(BrowserModes(b.Closer), ", "))
	case b.Mode == "callback" && !slices.Contains(BrowserHandlers(), b.On):
		return fmt.Errorf("on %q: a callback close needs one of %s", b.On, strings.Join(BrowserHandlers(), ", "))
	case b.Mode != "callback" && !slices.Contains(BrowserPhases(), b.Phase):
		return fmt.Errorf("phase %q: want one of %s", b.Phase, strings.Join(BrowserPhases(), ", "))
	case b.Mode == "channel" && b.Phase != "connected" && b.Phase != "mid_transfer":
		return fmt.Errorf("phase %q: a channel close needs the channel open (connected or mid_transfer)", b.Phase)
	case b.Messages < 0:
		return fmt.Errorf("messages %d: want >= 0", b.Messages)
	case b.StopFirst && !b.Audio:
		return errors.New("stop_first without audio: there is no transceiver to stop")
	}
	return nil
}

// ReadBrowserFile reads a browser scenario from a JSON file (what a
// finding's repro names, so that it does not depend on GenerateBrowser's
// draws staying the same), and validates it.
func ReadBrowserFile(path string) (BrowserScenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return BrowserScenario{}, fmt.Errorf("read browser scenario: %w", err)
	}
	var b BrowserScenario
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return BrowserScenario{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := b.Validate(); err != nil {
		return BrowserScenario{}, fmt.Errorf("%s: %w", path, err)
	}
	if b.Mode == "callback" {
		b.Phase = "on_" + strings.ReplaceAll(b.On, ":", "_")
	}
	return b, nil
}
