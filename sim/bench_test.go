package sim_test

import (
	"testing"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

// benchT is the *testing.T that sim.Run needs for synctest and cryptotest.
// Benchmarks have no T of their own; a zero T serves both (its cleanups,
// which only restore crypto/rand's reader, never run in a benchmark binary).
func benchT() *testing.T { return new(testing.T) }

func runBench(b *testing.B, sc scenarios.Scenario) *facts.Observation {
	b.Helper()
	obs, err := sim.Run(benchT(), sc)
	if err != nil {
		b.Fatal(err)
	}
	if obs.Outcome != facts.OutcomeOK {
		b.Logf("outcome %s", obs.Outcome)
	}
	return obs
}

// BenchmarkConnectDataClose: connect, 10 messages each way, close both,
// settle. Reports scenarios/s at GOMAXPROCS=1 (sim.Run sets it).
func BenchmarkConnectDataClose(b *testing.B) {
	sc := scenarios.ConnectDataClose(1, 10)
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		runBench(b, sc)
		n++
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "scenarios/s")
}

// BenchmarkConsentFailure: A closes with DisableCloseByDTLS, B fails by ICE
// consent after about 30 s of virtual time; reports virtual seconds per op
// next to the wall-clock ns/op.
func BenchmarkConsentFailure(b *testing.B) {
	sc := scenarios.WithClose(scenarios.Base(5), scenarios.CloseAt{Phase: scenarios.PhaseDCOpen, Closer: scenarios.PeerA, Mode: scenarios.ModeClose}, 1, 1)
	sc.Settings.DisableCloseByDTLS = true
	sc.Steps = append(sc.Steps, scenarios.Step{Kind: scenarios.KindAwait, Peer: scenarios.PeerB, State: scenarios.StatePCFailed, Timeout: scenarios.Duration(time.Minute)})
	sc.Settle = scenarios.Duration(time.Second)
	var virtual time.Duration
	for b.Loop() {
		virtual += runBench(b, sc).Virtual
	}
	b.ReportMetric(virtual.Seconds()/float64(b.N), "virtual-s/op")
}
