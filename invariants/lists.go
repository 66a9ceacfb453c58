package invariants

import "slices"

// Profiles returns a copy of the list (Profiles): a caller cannot change what the
// package accepts or generates.
func Profiles() []Profile { return slices.Clone(allProfiles) }
