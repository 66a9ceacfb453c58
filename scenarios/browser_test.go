package scenarios

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenerateBrowser: every generated browser scenario is one closesim
// browser can run, the same seed gives the same scenario, and 2000 seeds
// reach every closer mode, every handler and both transceiver options.
func TestGenerateBrowser(t *testing.T) {
	seen := map[string]bool{}
	for seed := range uint64(2000) {
		b := GenerateBrowser(seed)
		if err := b.Validate(); err != nil {
			t.Fatalf("seed %d: %v: %+v", seed, err, b)
		}
		if again := GenerateBrowser(seed); again != b {
			t.Fatalf("seed %d: %+v, then %+v", seed, b, again)
		}
		seen[b.Closer+"-"+b.Mode] = true
		seen["on "+b.On] = true
		seen["audio"] = seen["audio"] || b.Audio
		seen["stop"] = seen["stop"] || b.StopFirst
	}
	want := []string{"audio", "stop"}
	for _, c := range []string{"pion", "browser"} {
		for _, m := range BrowserModes(c) {
			want = append(want, c+"-"+m)
		}
	}
	for _, h := range BrowserHandlers() {
		want = append(want, "on "+h)
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("2000 seeds never drew %s", w)
		}
	}
}

// TestReadBrowserFile: a scenario file reads back as written, and a file
// closesim browser could not run is refused, naming the field.
func TestReadBrowserFile(t *testing.T) {
	dir := t.TempDir()
	write := func(v any) string {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "s.json")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sc := BrowserScenario{Seed: 163, Offerer: "browser", Phase: "after_answer", Closer: "pion", Mode: "graceful", Messages: 3}
	got, err := ReadBrowserFile(write(sc))
	if err != nil || got != sc {
		t.Fatalf("read %+v (%v), want %+v", got, err, sc)
	}
	cb := BrowserScenario{Offerer: "pion", Closer: "browser", Mode: "callback", On: "dc_open"}
	if got, err := ReadBrowserFile(write(cb)); err != nil || got.Phase != "on_dc_open" {
		t.Errorf("a callback close reads as %+v (%v), want phase on_dc_open", got, err)
	}
	for _, tt := range []struct {
		file any
		want string
	}{
		{map[string]any{"offerer": "pion", "closer": "pion", "mode": "tab", "phase": "connected"}, `mode "tab"`},
		{map[string]any{"offerer": "chrome", "closer": "pion", "mode": "close", "phase": "connected"}, `offerer "chrome"`},
		{map[string]any{"offerer": "pion", "closer": "pion", "mode": "close", "phase": "later"}, `phase "later"`},
		{map[string]any{"offerer": "pion", "closer": "pion", "mode": "callback", "on": "pc_closed"}, `on "pc_closed"`},
		{map[string]any{"offerer": "pion", "closer": "pion", "mode": "channel", "phase": "after_answer"}, "a channel close needs the channel open"},
		{map[string]any{"offerer": "pion", "closer": "pion", "mode": "close", "phase": "connected", "stop_first": true}, "stop_first without audio"},
		{map[string]any{"offerer": "pion", "closer": "pion", "mode": "close", "phase": "connected", "colour": "red"}, `unknown field "colour"`},
	} {
		if _, err := ReadBrowserFile(write(tt.file)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want one naming %s", tt.file, err, tt.want)
		}
	}
}

// TestFindingBrowserScenarios: the browser scenarios the findings' repro
// lines name (docs/findings/browser) are runnable files.
func TestFindingBrowserScenarios(t *testing.T) {
	paths, err := filepath.Glob("../docs/findings/browser/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no browser scenarios in docs/findings/browser: %v", err)
	}
	for _, p := range paths {
		if _, err := ReadBrowserFile(p); err != nil {
			t.Error(err)
		}
	}
}
