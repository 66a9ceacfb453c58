// Package fuzz holds closesim's test-binary entry points: the seed sweep
// (TestSweep), seed replay (TestReplay) and, later, go test -fuzz targets.
// Deterministic runs need a test binary (synctest and cryptotest refuse to
// run elsewhere), so the suite's knobs are test flags, as rapid's are:
//
//	go test ./fuzz -run '^TestSweep$' -v -closesim.seeds=200
//	go test ./fuzz -run '^TestReplay$' -v -closesim.seed=42
package fuzz
