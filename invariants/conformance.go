package invariants

import (
	_ "embed" // conformance.json
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
)

// ConformanceRow is one step of the W3C "close the connection" algorithm,
// of the algorithms it calls, of a method's [[IsClosed]] check, or one
// expectation of the remote side, with the invariants that judge it.
type ConformanceRow struct {
	// ID names the row, e.g. "close.step6" or "remote.dtls_close_notify".
	ID string `json:"id"`
	// Step is the step number in its algorithm, "method" or "remote".
	Step string `json:"step"`
	// Title says what the step does, in a few words.
	Title string `json:"title"`
	// Quote is a short exact quote of the spec text.
	Quote string `json:"quote"`
	// Anchor is the URL of the spec text (the algorithm's anchor: its
	// steps have none of their own).
	Anchor string `json:"anchor"`
	// WPT lists the web-platform-tests files (under webrtc/) that check
	// the same thing in browsers; empty when none was found.
	WPT []string `json:"wpt,omitempty"`
	// Invariants are the IDs of the invariants that judge the row; none
	// when closesim does not judge it (the report says so).
	Invariants []string `json:"invariants,omitempty"`
	// Objects, when set, keeps only the violations about these objects
	// (Violation.Object; "" for violations about no single object): the
	// row on DTLS counts close.states-at-return's DTLS violations, not its
	// SCTP ones.
	Objects []string `json:"objects,omitempty"`
	// Calls, when set, keeps only the violations about these probed calls
	// (Violation.Call; path.Match patterns, e.g. "RTPTransceiver(*).Stop").
	Calls []string `json:"calls,omitempty"`
}

// Covers reports whether an invariant of the row that judged a subject of
// subjects (Verdict.Subjects; ok false when the invariant reports none)
// judged what the row is about.
func (r ConformanceRow) Covers(subjects []string, ok bool) bool {
	if !ok || (len(r.Objects) == 0 && len(r.Calls) == 0) {
		return true
	}
	for _, s := range subjects {
		if call, isCall := strings.CutPrefix(s, CallSubject("")); isCall {
			if slices.ContainsFunc(r.Calls, func(p string) bool { m, _ := path.Match(p, call); return m }) {
				return true
			}
		} else if slices.Contains(r.Objects, s) {
			return true
		}
	}
	return false
}

// Concerns reports whether violation v of one of the row's invariants is
// about what the row judges (its Objects and Calls).
func (r ConformanceRow) Concerns(v Violation) bool {
	if !slices.Contains(r.Invariants, v.Invariant) {
		return false
	}
	if len(r.Objects) > 0 && !slices.Contains(r.Objects, v.Object) {
		return false
	}
	if len(r.Calls) > 0 && !slices.ContainsFunc(r.Calls, func(p string) bool { ok, _ := path.Match(p, v.Call); return ok }) {
		return false
	}
	return true
}

// Conformance is the conformance table's rows and their sources.
type Conformance struct {
	// Spec names the spec text the quotes come from.
	Spec string `json:"spec"`
	// WPT says where the test file names were read.
	WPT  string           `json:"wpt"`
	Rows []ConformanceRow `json:"rows"`
}

//go:embed conformance.json
var conformanceJSON []byte

// ConformanceTable returns the rows of the W3C conformance table
// (docs/conformance.md): what each step of "close the connection" and each
// remote-side expectation says, and which invariants judge it.
func ConformanceTable() Conformance {
	var c Conformance
	if err := json.Unmarshal(conformanceJSON, &c); err != nil {
		panic(fmt.Sprintf("invariants: conformance.json: %v", err)) // embedded: a build defect
	}
	return c
}
