package sim

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

type nilStringer struct{ s string }

func (n *nilStringer) String() string { return n.s } // panics on a nil receiver

type formatted struct{}

func (formatted) Format(f fmt.State, verb rune) { fmt.Fprint(f, "formatted") }
func (formatted) String() string                { return "stringer" }

type quoted string

func (q quoted) String() string { return "<" + string(q) + ">" }

// TestSprintfMatchesFmt: the trace's formatter gives fmt.Sprintf's text for
// what it handles, and falls back to fmt for the rest.
func TestSprintfMatchesFmt(t *testing.T) {
	var nilErr error
	tests := []struct {
		format string
		args   []any
	}{
		{"%s", []any{webrtc.PeerConnectionStateClosed}},
		{"%s", []any{webrtc.ICEGathererStateComplete}},
		{"%s %s:%d", []any{webrtc.ICECandidateTypeHost, "10.0.0.1", uint16(10000)}},
		{"open %q", []any{"dc \"x\"\n"}},
		{"message %q #%d %dB", []any{"dc", 7, 100}},
		{"close err=%v", []any{nilErr}},
		{"error %v", []any{errors.New("boom 0x1")}},
		{"error %q %v", []any{"dc", errors.New("e")}},
		{"send %s #%d delay=%s", []any{"offer", 2, 25 * time.Millisecond}},
		{"%s -> %s%s", []any{"CreateOffer", "nil", ""}},
		{"#%d %s", []any{3, quoted("step")}},
		{"100%% %v %v", []any{true, int64(-5)}},
		{"%d", []any{uint32(7)}},
		// Fallbacks: flags, widths, other verbs and types, wrong counts.
		{"%5d|%-3s|%x", []any{1, "a", 255}},
		{"%d", []any{"not a number"}},
		{"%s", []any{1.5}},
		{"%s %s", []any{"one"}},
		{"%s", []any{"one", "two"}},
		{"trailing %", []any{1}},
		{"%d", []any{errors.New("e")}},
		{"%s", []any{nil}},
		{"%s", []any{(*nilStringer)(nil)}},
		{"%v", []any{formatted{}}},
	}
	for _, tt := range tests {
		want := fmt.Sprintf(tt.format, tt.args...)
		if got := sprintf(tt.format, tt.args); got != want {
			t.Errorf("sprintf(%q, %v) = %q, want %q", tt.format, tt.args, got, want)
		}
	}
}
