package report

import "slices"

// Outcomes returns a copy of the list (Outcomes): a caller cannot change what the
// package accepts or generates.
func Outcomes() []string { return slices.Clone(allOutcomes) }
