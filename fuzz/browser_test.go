package fuzz

import (
	"testing"

	"github.com/closesim/closesim/suite"
)

// TestBrowserSweep runs generated browser scenarios between closesim's own
// Pion peer and headless Chromium (closesim browser drives it, with the
// -closesim.browser.* flags). Real time against a real browser: it fails
// only on harness errors, and skips under -short and without Chromium.
func TestBrowserSweep(t *testing.T) {
	suite.Browser(t, suite.BrowserConfig{})
}
