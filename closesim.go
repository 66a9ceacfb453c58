// Package closesim holds what the module ships besides code: the known
// issues of the Pion release it pins, so that a sweep of a user's own
// service labels Pion's documented teardown bugs (docs/findings.md) as
// known instead of failing on them. The framework itself is in the
// subpackages: suite (test entry points), sim, scenarios, invariants, report.
package closesim

import _ "embed" // known-issues.json

//go:embed known-issues.json
var knownIssues []byte

// KnownIssues returns the contents of the module's known-issues.json: a
// JSON array that invariants.ParseKnown decodes.
func KnownIssues() []byte { return append([]byte(nil), knownIssues...) }
