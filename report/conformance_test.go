package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/closesim/closesim/invariants"
)

// TestConformanceRows: a row takes the worst status of its invariants in
// each run, names the known issues that covered it and the first seed of
// each non-pass, and a row none of whose invariants had anything to judge
// is n/a, not pass.
func TestConformanceRows(t *testing.T) {
	viol := func(id string) invariants.Violation {
		return invariants.Violation{Invariant: id, Message: "m", Object: invariants.ObjectDTLS}
	}
	s := Sweep{Name: "t", Profile: "w3c", Results: []Result{
		{Seed: 10, Outcome: "ok", Verdict: invariants.Verdict{Pass: []string{"close.states-at-return", "local.closed-states"}, NA: []string{"remote.consent-failure", "remote.not-left-connected"}}},
		{Seed: 11, Outcome: "ok", Verdict: invariants.Verdict{Pass: []string{"local.closed-states"},
			Known: []invariants.Labeled{{Violation: viol("close.states-at-return"), Issue: invariants.KnownIssue{ID: "W1"}}},
			NA:    []string{"remote.consent-failure", "remote.not-left-connected"}}},
		{Seed: 12, Outcome: "ok", Verdict: invariants.Verdict{Fail: []invariants.Violation{viol("local.closed-states")},
			NA: []string{"remote.consent-failure", "remote.not-left-connected"}}},
		{Seed: 13, Outcome: "ok", Verdict: invariants.Verdict{Pass: []string{"local.closed-states"},
			Fail: []invariants.Violation{{Invariant: "close.states-at-return", Message: "m", Object: invariants.ObjectSCTP}},
			NA:   []string{"remote.consent-failure", "remote.not-left-connected"}}},
		{Seed: 14, Outcome: "ok", Verdict: invariants.Verdict{Pass: []string{"transceiver.rejected-after-close"},
			Subjects: map[string][]string{"transceiver.rejected-after-close": {invariants.CallSubject("RTPTransceiver(0).Stop")}},
			NA:       []string{"remote.consent-failure", "remote.not-left-connected"}}},
	}}
	rows := map[string]ConformanceResult{}
	for _, c := range ConformanceOf(s) {
		rows[c.ID] = c
	}
	step7 := rows["close.step7"] // close.states-at-return, local.closed-states
	if step6 := rows["close.step6"]; step6.Fail != 1 || *step6.FirstFail != 13 || step6.Pass != 3 {
		t.Errorf("close.step6 (SCTP): %+v, want seed 13's SCTP violation and nothing else", step6)
	}
	if step7.Pass != 2 || step7.Known != 1 || step7.Fail != 1 || step7.NA != 1 || *step7.FirstKnown != 11 || *step7.FirstFail != 12 || step7.Label() != "fail" {
		t.Errorf("close.step7: %+v label %q", step7, step7.Label())
	}
	// Seed 14 probed RTPTransceiver.Stop only: the stop row judged it, the
	// replaceTrack row had nothing to judge.
	if stop, rt := rows["method.RTCRtpTransceiver.stop"], rows["method.RTCRtpSender.replaceTrack"]; stop.Pass != 1 || rt.Pass != 0 || rt.NA != 5 {
		t.Errorf("stop row %+v, replaceTrack row %+v: want stop pass 1, replaceTrack n/a 5", stop, rt)
	}
	consent := rows["remote.ice_consent"]
	if consent.NA != 5 || consent.Pass != 0 || consent.Label() != "n/a (no run judged it)" {
		t.Errorf("remote.ice_consent: %+v label %q", consent, consent.Label())
	}
	var b bytes.Buffer
	if err := WriteConformance(&b, s); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"| `close.step7` |", "https://w3c.github.io/webrtc-pc/#dfn-close-the-connection", "fail: seed 12, known: seed 11", "RTCDtlsTransport-state.html"} {
		if !strings.Contains(md, want) {
			t.Errorf("conformance.md lacks %q", want)
		}
	}
	if sum := Summarize(s); len(sum.Conformance) == 0 {
		t.Error("a w3c summary has no conformance rows")
	}
	if sum := Summarize(Sweep{Profile: "pion", Results: s.Results}); len(sum.Conformance) != 0 {
		t.Error("a pion summary has conformance rows")
	}
}

// TestNotApplicableIsNotPass: an invariant a run gave nothing to judge
// counts n/a in summary.json and, when no run judged it, is skipped in
// junit.xml's invariants suite.
func TestNotApplicableIsNotPass(t *testing.T) {
	s := Sweep{Profile: "pion", Results: []Result{
		{Seed: 1, Outcome: "ok", Verdict: invariants.Verdict{Pass: []string{"leak.sockets"}, NA: []string{"remote.consent-failure"}}},
		{Seed: 2, Outcome: "ok", Verdict: invariants.Verdict{Pass: []string{"leak.sockets"}, NA: []string{"remote.consent-failure"}}},
	}}
	sum := Summarize(s)
	for _, c := range sum.Invariants {
		if c.ID == "remote.consent-failure" && (c.NA != 2 || c.Pass != 0 || c.Judged != 0) {
			t.Errorf("remote.consent-failure: %+v, want 2 n/a", c)
		}
		if c.ID == "leak.sockets" && (c.Pass != 2 || c.Judged != 2) {
			t.Errorf("leak.sockets: %+v, want 2 pass", c)
		}
	}
	ju := JUnit(s)
	var skipped bool
	for _, c := range ju.Suites[1].Cases {
		if c.Name == "remote.consent-failure" {
			skipped = c.Skipped != nil && strings.HasPrefix(c.Skipped.Message, "n/a:")
		}
	}
	if !skipped || ju.Suites[1].Skipped != 1 {
		t.Errorf("junit invariants suite: consent-failure skipped %v, suite skipped %d", skipped, ju.Suites[1].Skipped)
	}
	if !strings.Contains(markdown(sum, MaxMarkdown), "| `remote.consent-failure` | 0 | 2 | 0 | 0 | 0% |") {
		t.Error("summary.md does not show the n/a count")
	}
}
