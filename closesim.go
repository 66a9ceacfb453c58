// Package closesim holds what the module ships besides code: the known
// issues of the Pion release it pins, so that a sweep of a user's own
// service labels Pion's documented teardown bugs (docs/findings.md) as
// known instead of failing on them. The framework itself is in the
// subpackages: suite (test entry points), sim, scenarios, invariants, report.
package closesim

import _ "embed" // known-issues.json, deviations-w3c.json

//go:embed known-issues.json
var knownIssues []byte

//go:embed deviations-w3c.json
var w3cDeviations []byte

// KnownIssues returns the contents of the module's known-issues.json: a
// JSON array that invariants.ParseKnown decodes.
func KnownIssues() []byte { return append([]byte(nil), knownIssues...) }

// W3CDeviations returns the contents of the module's deviations-w3c.json:
// the known issues of the w3c profile's own invariants, each a documented
// Pion deviation from the W3C close algorithm or a finding seen through
// them (docs/findings.md). Same format as KnownIssues.
func W3CDeviations() []byte { return append([]byte(nil), w3cDeviations...) }
