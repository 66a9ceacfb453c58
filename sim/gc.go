package sim

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// The collector is kept out of runs. With one P, a GC cycle takes the P
// from the run's goroutines at a moment that depends on what the process
// allocated before (a replay, the previous scenario, an abandoned wedged
// bubble), which makes interleavings differ; and a full collection forced
// before every run costs as much as the process's live heap, which grows
// with every wedged bubble a fuzzing process must keep. So Run collects
// between runs only once garbage outgrows the live heap (what GOGC=100
// would do), and turns the collector off while a run goes on, with a
// memory limit of gcHeadroom above the heap at its start as the backstop
// for a run that allocates a lot.
const (
	gcHeadroom = 1 << 30
	gcMinHeap  = 16 << 20 // below this much garbage, never collect before a run
)

// gcMu is held from pauseGC to its resume: the collector settings are
// process-wide, so runs that overlap (a test calling Run from parallel
// subtests) take turns, as they must at GOMAXPROCS=1 anyway.
var gcMu sync.Mutex

var gcSamples = []metrics.Sample{
	{Name: "/gc/heap/live:bytes"},
	{Name: "/memory/classes/heap/objects:bytes"},
}

// pauseGC collects if the heap holds more garbage than live data, then
// turns the collector off, and returns the function that restores the
// collector's settings.
func pauseGC() (resume func()) {
	gcMu.Lock()
	metrics.Read(gcSamples)
	live, heap := sampleUint(gcSamples[0]), sampleUint(gcSamples[1])
	if heap > live && heap-live > max(live, gcMinHeap) {
		runtime.GC()
		metrics.Read(gcSamples)
		heap = sampleUint(gcSamples[1])
	}
	percent := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(int64(min(heap+gcHeadroom, math.MaxInt64/2)))
	return func() {
		debug.SetMemoryLimit(limit)
		debug.SetGCPercent(percent)
		gcMu.Unlock()
	}
}

func sampleUint(s metrics.Sample) uint64 {
	if s.Value.Kind() == metrics.KindUint64 {
		return s.Value.Uint64()
	}
	return 0
}
