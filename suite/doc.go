// Package suite runs closesim sweeps, replays, shrinks and CLI workers from
// a test function, so that a test package (closesim's own fuzz package or a
// user's) gets all of them from one line:
//
//	func TestCloseSweep(t *testing.T) {
//		suite.Run(t, suite.Config{
//			Peers: map[scenarios.Peer]sim.PeerFactory{scenarios.PeerB: func(env *sim.PeerEnv) (*webrtc.PeerConnection, error) {
//				pc, err := env.NewPeerConnection(nil)
//				if err != nil {
//					return nil, err
//				}
//				myservice.New().Accept(pc) // the user's code wires its handlers
//				return pc, nil
//			}},
//		})
//	}
//
// The user's code is one peer; closesim drives the other peer, the
// network, the clock and the close points, and judges every run with its
// invariants plus Config.Invariants. What Run does is chosen by the
// -closesim.* flags, which importing suite registers in the test binary
// (deterministic runs need a test binary: synctest and cryptotest refuse to
// run elsewhere):
//
//	go test ./mypkg -run '^TestCloseSweep$'                                    # sweep: 20 seeds (5 with -short)
//	go test ./mypkg -run '^TestCloseSweep$' -closesim.seeds=500 -closesim.out=out/   # and write the CI reports
//	go test ./mypkg -run '^TestCloseSweep$' -v -closesim.seed=42               # replay a seed with its trace
//	go test ./mypkg -run '^TestCloseSweep$' -v -closesim.file=min.json         # replay a scenario file
//	go test ./mypkg -run '^TestCloseSweep$' -v -closesim.shrink -closesim.seed=42 -closesim.out=min.json
//	closesim run -pkg ./mypkg -test TestCloseSweep -n 1000                      # worker processes (-closesim.worker)
//
// A sweep fails the test on every scenario that violates an invariant no
// known issue covers, and prints each with a repro line naming the test's
// own package and test; the first failure of each invariant is shrunk.
// Known issues default to the ones closesim ships for the Pion release it
// pins plus a known-issues.json at the module root (-closesim.known).
//
// Check runs one fixed scenario as a regression test, Judge and Shrink do
// the same work without failing the test, Fuzz is a go test -fuzz target
// body, and Load reads a scenario file as -closesim.file does.
package suite
