package scenarios

import (
	"fmt"
	"math/rand/v2"
)

// BrowserScenario is a close scenario for closesim browser: a Pion peer and
// headless Chromium connect with one data channel, and one of them closes
// at a close phase.
type BrowserScenario struct {
	Seed uint64 `json:"seed"`
	// Offerer is "pion" or "browser"; it creates the data channel "dc".
	Offerer string `json:"offerer"`
	// Phase is one of BrowserPhases.
	Phase string `json:"phase"`
	// Closer is "pion" or "browser"; Mode is "close", "graceful" (Pion's
	// GracefulClose) or "tab" (the browser's tab closes, no close()).
	Closer string `json:"closer"`
	Mode   string `json:"mode"`
	// Messages is how many 1 KiB messages each side sends before a
	// mid_transfer close.
	Messages int `json:"messages"`
}

// BrowserPhases are the close points of a browser scenario, in order: after
// the offer was applied (no answer yet), right after the answer was applied
// (ICE and DTLS connecting), with the channel open and idle, and while both
// sides send.
func BrowserPhases() []string {
	return []string{"before_answer", "after_answer", "connected", "mid_transfer"}
}

// Name labels the scenario as reports group it.
func (b BrowserScenario) Name() string {
	return fmt.Sprintf("%s-offers/%s/%s-%s", b.Offerer, b.Phase, b.Closer, b.Mode)
}

// GenerateBrowser draws a browser scenario from seed: every combination of
// offerer, phase and closer (close, graceful or tab for each side that can)
// is equally likely.
func GenerateBrowser(seed uint64) BrowserScenario {
	r := rand.New(rand.NewPCG(seed, 0x62726f77)) // "brow"
	closers := [][2]string{{"pion", "close"}, {"pion", "graceful"}, {"browser", "close"}, {"browser", "tab"}}
	c := closers[r.IntN(len(closers))]
	return BrowserScenario{
		Seed:     seed,
		Offerer:  []string{"pion", "browser"}[r.IntN(2)],
		Phase:    BrowserPhases()[r.IntN(len(BrowserPhases()))],
		Closer:   c[0],
		Mode:     c[1],
		Messages: 1 + r.IntN(50),
	}
}
