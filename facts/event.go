package facts

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Event is one entry of a Trace.
type Event struct {
	// Seq is the 0-based position of the event in the trace.
	Seq int `json:"seq"`
	// At is the virtual time since the world started.
	At time.Duration `json:"at"`
	// Peer is "A", "B", or "" for the world itself (network, harness).
	Peer string `json:"peer,omitempty"`
	// Kind classifies the event: "step", "pc", "ice", "gather", "signaling",
	// "dtls", "sctp", "dc", "candidate", "signal", "socket", "log", "harness".
	Kind string `json:"kind"`
	// Detail is the rest, e.g. "connected" or "open \"dc\"".
	Detail string `json:"detail"`
}

// String renders the event in the canonical form
// "t=1.234000s A pc connected".
func (e Event) String() string {
	peer := e.Peer
	if peer == "" {
		peer = "-"
	}
	return fmt.Sprintf("t=%.6fs %s %s %s", e.At.Seconds(), peer, e.Kind, e.Detail)
}

// orderString renders the event without its timestamp.
func (e Event) orderString() string {
	peer := e.Peer
	if peer == "" {
		peer = "-"
	}
	return peer + " " + e.Kind + " " + e.Detail
}

// Text renders events in canonical form, one per line.
func Text(events []Event) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// OrderText renders the order-only trace: events without timestamps, and
// without Pion's log lines (their wording carries goroutine timing that is
// not part of the behaviour under test).
func OrderText(events []Event) string {
	var b strings.Builder
	for _, e := range events {
		if e.Kind == "log" {
			continue
		}
		b.WriteString(e.orderString())
		b.WriteByte('\n')
	}
	return b.String()
}

// OrderHash is a stable hash (16 hex digits) of OrderText.
func OrderHash(events []Event) string {
	sum := sha256.Sum256([]byte(OrderText(events)))
	return hex.EncodeToString(sum[:8])
}

// FirstDivergence compares two order-only traces and returns the index of
// the first event that differs and a description of both sides, or -1.
func FirstDivergence(a, b []Event) (int, string) {
	fa, fb := orderOnly(a), orderOnly(b)
	for i := 0; i < len(fa) || i < len(fb); i++ {
		var x, y string
		if i < len(fa) {
			x = fa[i]
		}
		if i < len(fb) {
			y = fb[i]
		}
		if x != y {
			return i, fmt.Sprintf("event %d: %q vs %q", i, x, y)
		}
	}
	return -1, ""
}

func orderOnly(events []Event) []string {
	var out []string
	for _, e := range events {
		if e.Kind != "log" {
			out = append(out, e.orderString())
		}
	}
	return out
}
