package invariants_test

import (
	"strings"
	"testing"

	"github.com/closesim/closesim/invariants"
)

// TestConformanceTable: every row names invariants that exist, every
// invariant of the w3c profile judges some row, and every row has its
// quote and anchor.
func TestConformanceTable(t *testing.T) {
	c := invariants.ConformanceTable()
	if len(c.Rows) < 20 {
		t.Fatalf("%d rows, want the 11 steps, the sub-algorithms, the methods and the remote side", len(c.Rows))
	}
	judged := map[string]bool{}
	for _, r := range c.Rows {
		if r.ID == "" || r.Quote == "" || !strings.HasPrefix(r.Anchor, "https://w3c.github.io/webrtc-pc/#") {
			t.Errorf("row %+v: want id, quote and a spec anchor", r)
		}
		for _, id := range r.Invariants {
			inv, ok := invariants.Lookup(id)
			if !ok {
				t.Errorf("row %s: no invariant %q", r.ID, id)
				continue
			}
			if !inv.In(invariants.W3C) {
				t.Errorf("row %s: %s is not in the w3c profile", r.ID, id)
			}
			judged[id] = true
		}
	}
	for _, inv := range invariants.Of(invariants.W3C) {
		if strings.HasPrefix(inv.ID, "data.") || strings.HasPrefix(inv.ID, "harness.") || inv.ID == "api.getstats-after-close" {
			continue // RFC 8831 delivery, the harness's own rules, getStats (no [[IsClosed]] check): not steps of the algorithm
		}
		if !judged[inv.ID] {
			t.Errorf("%s (w3c) judges no row of the conformance table", inv.ID)
		}
	}
}
