// Package fuzz holds closesim's test-binary entry points for Pion itself
// (both peers closesim's): the suite test TestSweep (suite.Run: sweep,
// replay, shrink and the worker closesim run drives, chosen by the
// -closesim.* flags that package suite registers), TestReplay, TestShrink
// and TestWorker (the same, each only in its own mode), the named catalogue
// (TestCatalogue) and the go test -fuzz target FuzzClose with its seed
// corpus. Deterministic runs need a test binary (synctest and cryptotest
// refuse to run elsewhere), so the suite's knobs are test flags, as rapid's
// are:
//
//	go test ./fuzz -run '^TestSweep$' -v -closesim.seeds=200
//	go test ./fuzz -run '^TestReplay$' -v -closesim.seed=42
package fuzz
