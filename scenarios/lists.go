package scenarios

import "slices"

// NATTypes returns a copy of the list (NATTypes): a caller cannot change what the
// package accepts or generates.
func NATTypes() []NATType { return slices.Clone(allNATTypes) }

// PacketClasses returns a copy of the list (PacketClasses): a caller cannot change what the
// package accepts or generates.
func PacketClasses() []PacketClass { return slices.Clone(allPacketClasses) }

// Directions returns a copy of the list (Directions): a caller cannot change what the
// package accepts or generates.
func Directions() []Direction { return slices.Clone(allDirections) }

// Callbacks returns a copy of the list (Callbacks): a caller cannot change what the
// package accepts or generates.
func Callbacks() []Callback { return slices.Clone(allCallbacks) }

// Kinds returns a copy of the list (Kinds): a caller cannot change what the
// package accepts or generates.
func Kinds() []Kind { return slices.Clone(allKinds) }

// States returns a copy of the list (States): a caller cannot change what the
// package accepts or generates.
func States() []State { return slices.Clone(allStates) }

// AsyncKinds returns a copy of the list (AsyncKinds): a caller cannot change what the
// package accepts or generates.
func AsyncKinds() []Kind { return slices.Clone(allAsyncKinds) }

// Phases returns a copy of the list (Phases): a caller cannot change what the
// package accepts or generates.
func Phases() []Phase { return slices.Clone(allPhases) }

// Closers returns a copy of the list (Closers): a caller cannot change what the
// package accepts or generates.
func Closers() []Peer { return slices.Clone(allClosers) }

// Modes returns a copy of the list (Modes): a caller cannot change what the
// package accepts or generates.
func Modes() []CloseMode { return slices.Clone(allModes) }

// InterceptorNames returns a copy of the list (InterceptorNames): a caller cannot change what the
// package accepts or generates.
func InterceptorNames() []InterceptorName { return slices.Clone(allInterceptors) }
