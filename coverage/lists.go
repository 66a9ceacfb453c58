package coverage

import "slices"

// KBuckets returns a copy of the list (KBuckets): a caller cannot change what the
// package accepts or generates.
func KBuckets() []string { return slices.Clone(allKBuckets) }
