// Package sim is closesim's world: two real Pion PeerConnections on Pion's
// virtual network, driven through a scenario's steps inside a
// testing/synctest bubble with a fake clock and seeded crypto randomness.
//
// Run executes one scenario and returns its Observation: the trace, the
// state tuple at each close, final states after settling, goroutines and
// sockets left behind, and how the run ended (ok, leak, deadlock, wedge,
// panic). Freeze detection outside the bubble turns a frozen bubble into a
// diagnosed wedge within milliseconds (see WithFreezeDetection), a virtual
// step deadline catches a call that never returns while tickers keep the
// fake clock moving (StepDeadline), and a wall-clock watchdog is the
// backstop for a run that keeps running.
//
// Run needs a *testing.T (synctest and cryptotest only work in test
// binaries) and sets GOMAXPROCS to 1 while it runs: Pion calls its handlers
// on fresh goroutines, and only one P keeps their order reproducible.
package sim

import (
	"cmp"
	cryptorand "crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/cryptotest"
	"testing/synctest"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/pion/webrtc/v4"

	"github.com/closesim/closesim/internal/gstack"
	"github.com/closesim/closesim/scenarios"
)

// DefaultWatchdog is the wall-clock bound of one run, well under the 10 s
// after which `go test -fuzz` declares an input hung. With freeze detection
// on it only ends runs that keep running; a frozen one ends in milliseconds.
const DefaultWatchdog = 3 * time.Second

// harnessSettle is the virtual time the world runs after the harness closed
// every peer the scenario left open, before goroutines and sockets are counted.
const harnessSettle = 5 * time.Second

// lateTimerWindow is the idle virtual time after teardown in which any
// event reveals a timer still pending.
const lateTimerWindow = 10 * time.Minute

// Real-time runs (WithRealTime) cap the settle periods and stand in for
// synctest.Wait with a short sleep.
const (
	realTimeSettle   = time.Second
	realTimeQuiesce  = 5 * time.Millisecond
	realTimeWatchdog = time.Minute
)

type config struct {
	realTime   bool
	freshCerts bool
	certs      []webrtc.Certificate // A's and B's, unless freshCerts
	watchdog   time.Duration
	noFreeze   bool // WithFreezeDetection(false): the watchdog alone decides
	gomaxprocs int
	steps      map[string]StepFunc
	factories  map[scenarios.Peer]PeerFactory
}

// Option configures Run.
type Option func(*config)

// WithWatchdog sets the wall-clock bound after which a run that has not
// finished is declared wedged (default DefaultWatchdog).
func WithWatchdog(d time.Duration) Option { return func(c *config) { c.watchdog = d } }

// WithFreezeDetection turns freeze detection on (the default) or off. With
// it on, a run is declared wedged as soon as its bubble is provably frozen:
// every goroutine of the bubble is blocked and at least one of them not
// durably, so the fake clock can never move again (see gstack.Frozen); the
// bubble is sampled from outside, only while its trace does not grow, by a
// goroutine that yields instead of sleeping (so it never reorders the run),
// and a freeze must show in two identical samples 3 ms apart. The watchdog
// stays as the backstop for a run that keeps running. Off, only the
// watchdog declares a wedge, as before freeze detection existed (no freeze
// sampling, and no StepDeadline either): useful to check that both
// classify the same seeds.
//
// Turn it off for code that waits, inside the bubble, for a goroutine
// outside it (a channel made outside the bubble): a wait of more than a few
// milliseconds of wall time on such a thing looks like a freeze.
func WithFreezeDetection(on bool) Option { return func(c *config) { c.noFreeze = !on } }

// WithGOMAXPROCS runs the scenario with n Ps instead of 1; n <= 0 leaves
// GOMAXPROCS as it is. Useful only to measure how much order depends on it.
func WithGOMAXPROCS(n int) Option { return func(c *config) { c.gomaxprocs = n } }

// WithRealTime runs the scenario outside any bubble, on the real clock, over
// the same vnet world. It tells a stall from a deadlock: a wedge in the
// bubble (a lock held across a fake timer) that finishes in real time, with
// a slow close, is a stall; one that also hangs in real time is a deadlock.
// Settle periods are capped at a second, leaks are not attributed (goroutines
// outside a bubble belong to the whole process), the watchdog defaults to a
// minute, and the interleaving is the real scheduler's, not the bubble's.
func WithRealTime() Option {
	return func(c *config) {
		c.realTime = true
		if c.watchdog == DefaultWatchdog {
			c.watchdog = realTimeWatchdog
		}
	}
}

// WithFreshCertificates makes each PeerConnection generate its own DTLS
// certificate, as Pion does by default, instead of using the two shared
// certificates closesim makes once per process. It costs about a tenth of a
// short run and changes the fingerprints in the SDP.
func WithFreshCertificates() Option { return func(c *config) { c.freshCerts = true } }

// WithStep registers the handler of custom steps named name.
func WithStep(name string, fn StepFunc) Option {
	return func(c *config) { c.steps[name] = fn }
}

// Run executes sc in a fresh bubble and returns what it observed. The error
// is non-nil only for bad input (an invalid scenario, an unregistered custom
// step); everything Pion does, including leaks and wedges, is in the
// facts.Observation. On a wedge the bubble's goroutines cannot be unwound: they
// stay parked in this process, and Run returns once the watchdog fires.
func Run(t *testing.T, sc scenarios.Scenario, opts ...Option) (*facts.Observation, error) {
	cfg := &config{watchdog: DefaultWatchdog, gomaxprocs: 1, steps: map[string]StepFunc{}, factories: map[scenarios.Peer]PeerFactory{}}
	for _, o := range opts {
		o(cfg)
	}
	if err := scenarios.Validate(&sc); err != nil {
		return nil, fmt.Errorf("invalid scenario: %w", err)
	}
	for i, s := range sc.Steps {
		if s.Kind == scenarios.KindCustom && cfg.steps[s.Name] == nil {
			return nil, fmt.Errorf("invalid scenario: steps[%d].name: no custom step %q is registered (sim.WithStep)", i, s.Name)
		}
	}
	for p := range cfg.factories {
		if p != scenarios.PeerA && p != scenarios.PeerB {
			return nil, fmt.Errorf("sim.WithPeer: peer %q: want A or B", p)
		}
	}
	if sc.Version == 0 {
		sc.Version = scenarios.Version
	}
	if n := cfg.gomaxprocs; n > 0 && runtime.GOMAXPROCS(0) != n {
		// Setting it stops the world: only when it changes.
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	}
	if !cfg.freshCerts {
		c, err := sharedCertificates(t)
		if err != nil {
			return nil, fmt.Errorf("shared certificates: %w", err)
		}
		cfg.certs = c[:]
	}
	syncWithAbandonedRuns()
	cryptotest.SetGlobalRandom(t, sc.Seed)
	// No collection during the run (see pauseGC).
	defer pauseGC()()

	r := &runner{sc: sc, cfg: cfg, done: make(chan struct{}), hung: make(chan string, 1), outside: runtime.NumGoroutine()}
	wallStart := time.Now()
	if cfg.realTime {
		go r.plain()
	} else {
		go r.bubble(t)
	}
	r.wait()
	if r.obs.Outcome == facts.OutcomeWedge && !cfg.realTime {
		// The wedged bubble stays in this process; let it come to rest
		// (Trace.holdIfAbandoned) before the next run reseeds the
		// process's randomness.
		if !r.awaitFrozen(abandonedSettle) {
			if tr := r.trace.Load(); tr != nil {
				tr.Add("", facts.KindHarness, "the abandoned bubble was still running %s after the run was declared wedged", abandonedSettle)
			}
		}
	}
	if cfg.realTime {
		// Outside a bubble, Pion's goroutines can outlive the run (a TURN
		// transaction's retransmissions, a media processor finishing): one
		// still drawing randomness when the next run calls
		// SetGlobalRandom is a data race. Wait for the process to come
		// back to the goroutines it had before the run.
		r.awaitLeftovers(realTimeLeftovers)
	}
	obs := r.observation()
	obs.Wall = time.Since(wallStart)
	return obs, nil
}

// syncWithAbandonedRuns orders the randomness reads of the bubbles that
// earlier runs of this process abandoned as wedged before the
// SetGlobalRandom that follows. Their goroutines never exit, so nothing
// else orders their reads of crypto/rand's global reader before the next
// run replaces it (the race detector reports it). Every read of the
// reader cryptotest installs takes that reader's mutex; one more read,
// once the abandoned bubble is at rest (awaitFrozen), takes it after all
// of theirs. The byte comes from the previous run's stream, which nobody
// draws from any more.
func syncWithAbandonedRuns() {
	var b [1]byte
	_, _ = cryptorand.Read(b[:])
}

// abandonedSettle bounds the wait for an abandoned bubble to freeze. Its
// clock is stopped, so what is left is CPU work, usually milliseconds; on
// a loaded 2-core machine under -race (CI runs every package's
// simulations at once) a bubble that was mid-transfer took more than a
// second, so the bound is generous: it costs only a bubble that never
// comes to rest.
const abandonedSettle = 5 * time.Second

// awaitFrozen waits, up to limit, until the abandoned bubble is frozen:
// every goroutine blocked, the same in two samples (as the freeze
// detector decides). It reports whether the bubble froze.
func (r *runner) awaitFrozen(limit time.Duration) bool {
	fd := &freezeDetector{events: -1, backoff: freezeQuiet}
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); {
		wait, frozen := fd.sample(int(r.bubbleID.Load()), r.traceLen(), time.Now())
		if frozen {
			return true
		}
		time.Sleep(wait)
	}
	return false
}

// realTimeLeftovers bounds the wait for a real-time run's goroutines to
// end: longer than pion/turn's 7.8 s retransmission schedule.
const realTimeLeftovers = 10 * time.Second

// awaitLeftovers waits, up to limit, until the process runs no more
// goroutines than before the run, and traces how many remain if some do
// (a goroutine leaked for good outside the bubble).
func (r *runner) awaitLeftovers(limit time.Duration) {
	deadline := time.Now().Add(limit)
	for runtime.NumGoroutine() > r.outside {
		if time.Now().After(deadline) {
			if tr := r.trace.Load(); tr != nil {
				tr.Add("", facts.KindHarness, "%d goroutine(s) outlived the real-time run by %s", runtime.NumGoroutine()-r.outside, limit)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runner connects the goroutine that owns the bubble with Run.
type runner struct {
	sc   scenarios.Scenario
	cfg  *config
	done chan struct{}
	// hung receives, from a bubble timer, the description of a step (or the
	// harness's own close) that outlived StepDeadline of virtual time.
	hung chan string
	// outside is the process's goroutine count before the run started,
	// and helpers the goroutines Run itself runs beside the bubble (the
	// freeze sampler): the leak check's fast path (see leaked).
	outside int
	helpers atomic.Int64

	// trace is the world's trace once it exists, and bubbleID the
	// bubble's ID once the body knows it: the freeze sampler reads both
	// without locks (see sampleFreezes).
	trace    atomic.Pointer[Trace]
	bubbleID atomic.Int64

	mu sync.Mutex
	w  *world // set once the world is built
	// harness holds the IDs of the goroutines of the bubble that belong to
	// the harness: the one that called synctest.Test (it joins the bubble
	// while Run waits), the bubble's root, and the body.
	harness map[int64]bool
	bodyID  int64 // the goroutine that runs the steps
	// stepping are the goroutines running a step right now (the body, or
	// an async step's own goroutine), by goroutine ID: what a wedge's
	// Stuck names. steppingMu guards it (not mu: wedged holds mu).
	steppingMu sync.Mutex
	stepping   map[int64]int
	obs        facts.Observation
	finished   bool // the bubble body returned
}

// bubble runs the scenario inside synctest.Test and classifies how it ended.
func (r *runner) bubble(t *testing.T) {
	defer close(r.done)
	caller, _ := gstack.Current()
	r.mu.Lock()
	r.harness = map[int64]bool{caller: true}
	r.mu.Unlock()
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.obs.Outcome == facts.OutcomeLeak || r.obs.Outcome == facts.OutcomePanic {
			return // synctest's "blocked goroutines remain": already recorded
		}
		msg := fmt.Sprint(v)
		if r.finished && strings.Contains(msg, "blocked goroutines remain") {
			// The leak check's count missed them (see leaked): the
			// bubble's goroutines left now are the leaks.
			r.obs.Leaks = toGoroutines(r.bubbleGoroutines())
			r.obs.Outcome = facts.OutcomeLeak
			return
		}
		if strings.Contains(msg, "all goroutines in bubble are blocked") {
			r.obs.Outcome = facts.OutcomeDeadlock
			gs := r.bubbleGoroutines()
			d := gstack.Diagnose(gs)
			r.obs.Wedge = &facts.Wedge{Diagnosis: "synctest: " + msg + "\n" + d.Summary, Headline: gstack.Headline(d.Summary), Goroutines: toGoroutines(gs),
				Blocked: blockedWaits(d), Stuck: r.stuck(gs)}
			return
		}
		r.obs.Outcome = facts.OutcomePanic
		r.obs.Panic = msg
	}()
	synctest.Test(t, func(*testing.T) { r.body() })
}

// plain runs the scenario on the real clock, outside any bubble.
func (r *runner) plain() {
	defer close(r.done)
	caller, _ := gstack.Current()
	r.mu.Lock()
	r.harness = map[int64]bool{caller: true}
	r.mu.Unlock()
	r.body()
}

// body is the bubble's main goroutine: build, run the steps, settle, record.
func (r *runner) body() {
	buf := make([]byte, 4096)
	self := gstack.Parse(buf[:runtime.Stack(buf, false)])
	if len(self) != 1 {
		panic("closesim: cannot parse the harness goroutine's own stack")
	}
	r.mu.Lock()
	r.bubbleID.Store(int64(self[0].Bubble))
	r.harness[self[0].ID] = true
	r.bodyID = self[0].ID
	r.harness[self[0].CreatorID] = true // the root: synctest's testingSynctestTest
	r.mu.Unlock()
	start := time.Now()
	w, err := newWorld(r.sc, r.cfg)
	if err != nil {
		r.mu.Lock()
		r.obs.Outcome, r.obs.Error = facts.OutcomeError, err.Error()
		r.mu.Unlock()
		return
	}
	r.mu.Lock()
	r.w = w
	r.mu.Unlock()
	r.trace.Store(w.trace)
	// The SFU's other clients (Topology.SFUClients) are connected before
	// the scenario starts, as an SFU's clients are when one more joins.
	for _, cl := range w.sfu {
		go cl.connect()
	}
	for _, cl := range w.sfu {
		<-cl.done
	}
	if p := r.runSteps(w); p != "" {
		r.mu.Lock()
		r.obs.Outcome, r.obs.Panic = facts.OutcomePanic, p
		r.mu.Unlock()
		w.trace.Add("", facts.KindHarness, "panic, abandoning the run")
		return
	}
	settle := time.Duration(r.sc.Settle)
	if settle == 0 {
		settle = time.Duration(scenarios.DefaultSettle)
	}
	w.trace.Add("", facts.KindHarness, "settle %s", settle)
	for _, cl := range w.sfu {
		cl.probe()
	}
	if r.cfg.realTime {
		settle = min(settle, realTimeSettle)
	}
	w.sleep(settle)
	r.quiesce()
	final := []facts.PeerState{w.peers[scenarios.PeerA].state(), w.peers[scenarios.PeerB].state()}
	finalAt := w.now()
	var sfu []facts.SFUConnection
	for _, cl := range w.sfu {
		sfu = append(sfu, cl.final())
	}
	finalReports := w.reports.collect()
	for _, p := range w.peers {
		// A close_on that has not fired by now must not fire during the
		// harness's own close: that close is not the scenario's.
		p.mu.Lock()
		p.armed = nil
		p.mu.Unlock()
	}
	var probes []facts.APIProbe
	for _, name := range []scenarios.Peer{scenarios.PeerA, scenarios.PeerB} {
		if p := w.peers[name]; p.isClosed() {
			probes = append(probes, p.probe()...)
		}
	}

	// Close what the scenario left open so that whatever remains is a leak.
	var harnessCloses []facts.CloseSnapshot
	for _, name := range []scenarios.Peer{scenarios.PeerA, scenarios.PeerB} {
		if p := w.peers[name]; !p.isClosed() {
			stop := r.deadline(0, "the harness's GracefulClose of %s", name)
			snap := facts.CloseSnapshot{Step: -1, Peer: string(name), Mode: string(scenarios.ModeGraceful), By: facts.CloseByHarness, At: w.now(), Before: final[slices.Index([]scenarios.Peer{scenarios.PeerA, scenarios.PeerB}, name)]}
			p.closeSnap(&snap)
			harnessCloses = append(harnessCloses, snap)
			stop()
		}
	}
	w.closeAllSFU()
	// The application owns an ICE UDPMux and closes it after its
	// PeerConnections (Settings.UDPMux); a handler it had not registered
	// yet it never will.
	for _, name := range []scenarios.Peer{scenarios.PeerA, scenarios.PeerB} {
		if p := w.peers[name]; p.late != nil {
			p.late.Stop()
		}
		if p := w.peers[name]; p.mux != nil {
			w.trace.Add(string(name), facts.KindHarness, "close udp mux: %v", p.mux.Close())
		}
	}
	if r.cfg.realTime {
		time.Sleep(realTimeSettle)
	} else {
		time.Sleep(harnessSettle)
	}
	reported := w.reports.collect()
	var turnLeft int
	if w.turn != nil {
		turnLeft = w.turn.liveAllocations()
		err := w.turn.shutdown()
		w.trace.Add("", facts.KindHarness, "turn: %d allocation(s) left; close the relay: %v", turnLeft, err)
	}
	if w.injector != nil {
		_ = w.injector.Close()
	}
	if err := w.router.Stop(); err != nil {
		w.trace.Add("", facts.KindHarness, "router stop: %v", err)
	}
	r.quiesce()
	var leaks []facts.Goroutine
	if !r.cfg.realTime { // outside a bubble goroutines cannot be attributed to the run
		leaks = r.leaked()
	}
	sockets := w.openSockets()
	var late []facts.Event
	if !r.cfg.realTime {
		// Pending timers: nothing may happen in a long idle stretch after
		// teardown. A timer or ticker that fires and acts (a callback, a
		// log line, a socket) shows up here; one that fires silently does not.
		n0 := len(w.trace.Events())
		time.Sleep(lateTimerWindow)
		synctest.Wait()
		late = w.trace.Events()[n0:]
	}
	virtual := time.Since(start)

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.obs.Wedge != nil {
		// A real-time run abandoned as wedged (abandonRealTime) may get
		// here after all: the wedge stands, and what an abandoned run saw
		// afterwards is not its observation.
		return
	}
	r.obs.Final, r.obs.Probes, r.obs.Leaks, r.obs.OpenSockets, r.obs.Virtual = final, probes, leaks, sockets, virtual
	r.obs.LateEvents, r.obs.HarnessCloses, r.obs.FinalAt = late, harnessCloses, finalAt
	r.obs.TURNAllocations = turnLeft
	r.obs.SFU = sfu
	r.obs.Reports, r.obs.FinalReports = reported, finalReports
	for _, name := range []scenarios.Peer{scenarios.PeerA, scenarios.PeerB} {
		if w.peers[name].user {
			r.obs.UserPeers = append(r.obs.UserPeers, string(name))
		}
	}
	r.obs.Packets = w.packetCounts()
	for name, p := range w.peers {
		if p.bp != nil {
			if r.obs.Parked == nil {
				r.obs.Parked = map[string]int{}
			}
			r.obs.Parked[string(name)] = p.bp.Stats().MaxParked
		}
	}
	r.obs.Outcome = facts.OutcomeOK
	if len(leaks) > 0 || len(sockets) > 0 {
		r.obs.Outcome = facts.OutcomeLeak
	}
	r.finished = true
}

// runSteps executes the scenario's steps, returning a panic description if
// one panicked (the run is then abandoned).
func (r *runner) runSteps(w *world) (panicked string) {
	var (
		async   sync.WaitGroup
		asyncMu sync.Mutex
		asyncP  string // the first panic of an async step
	)
	for i, s := range r.sc.Steps {
		if s.Immediate {
			// A sub-instant step: start right after the previous one
			// returned, while the goroutines it woke are still mid-flight.
			for range s.Yields {
				runtime.Gosched()
			}
		} else {
			// Let every goroutine the previous step woke run until it blocks,
			// so the step starts from a quiet, reproducible world.
			r.quiesce()
		}
		desc := s.String()
		w.trace.record(facts.Event{Peer: string(s.Peer), Kind: facts.KindStep, Step: &facts.StepFact{Index: i, Kind: s.Kind}}, "#%d %s", i, desc)
		if s.Async {
			// In flight while the next steps run; waited for below.
			async.Go(func() {
				if p := r.runStep(w, i, s, desc); p != "" {
					asyncMu.Lock()
					asyncP = cmp.Or(asyncP, p)
					asyncMu.Unlock()
				}
			})
			continue
		}
		if p := r.runStep(w, i, s, desc); p != "" {
			return p
		}
	}
	async.Wait()
	return asyncP
}

// runStep executes step i, records its result, and returns a description
// of its panic, if it panicked.
func (r *runner) runStep(w *world, i int, s scenarios.Step, desc string) (panicked string) {
	defer r.stepping1()()
	at := w.now()
	defer r.deadline(time.Duration(s.Duration)+time.Duration(s.Timeout), "step #%d %s", i, desc)()
	err := func() (err error) {
		defer func() {
			if v := recover(); v != nil {
				panicked = fmt.Sprintf("step #%d %s panicked: %v\n%s", i, desc, v, stack())
				err = errors.New(panicked)
			}
		}()
		return w.runStep(i, s)
	}()
	res := facts.StepResult{Index: i, Step: desc, At: at, Took: w.now() - at}
	if err != nil {
		res.Err = err.Error()
		w.trace.record(facts.Event{Peer: string(s.Peer), Kind: facts.KindStep, Step: &facts.StepFact{Index: i, Kind: s.Kind, End: true, Err: err.Error()}}, "#%d error: %v", i, err)
	} else if s.Async {
		w.trace.record(facts.Event{Peer: string(s.Peer), Kind: facts.KindStep, Step: &facts.StepFact{Index: i, Kind: s.Kind, End: true}}, "#%d done", i)
	}
	w.mu.Lock()
	w.steps = append(w.steps, res)
	w.mu.Unlock()
	return panicked
}

// StepDeadline is the virtual time a step may take beyond its own sleep or
// await timeout before the run is declared hung (a wedge by
// facts.WedgeByDeadline): far beyond any of Pion's own timeouts (ICE fails after
// 30 s, an SCTP INIT gives up after a few minutes), so only a call that
// never returns reaches it, while tickers keep the fake clock moving.
const StepDeadline = 10 * time.Minute

// never is made outside every bubble and never closed; see deadline.
var never = make(chan struct{})

// deadline arms a bubble timer for StepDeadline+extra of virtual time and
// returns the function that disarms it. If it fires first, the run's
// waiter hears what hung. Real-time runs have their watchdog instead.
func (r *runner) deadline(extra time.Duration, format string, args ...any) (stop func()) {
	if r.cfg.realTime || r.cfg.noFreeze {
		return func() {}
	}
	limit := StepDeadline + extra
	t := time.AfterFunc(limit, func() {
		select {
		case r.hung <- fmt.Sprintf(format, args...) + fmt.Sprintf(" did not return within %s of virtual time", limit):
		default:
		}
		// Freeze the bubble on purpose: a wait on a channel made outside
		// it is not durable, so its clock stops for good and the tickers
		// that kept it moving no longer burn CPU in this process.
		<-never
	})
	return func() { t.Stop() }
}

// quiesce waits until every other goroutine of the bubble is durably
// blocked; in real time it can only give them a moment.
func (r *runner) quiesce() {
	if r.cfg.realTime {
		time.Sleep(realTimeQuiesce)
		return
	}
	synctest.Wait()
}

// leakDumps counts the leak checks that had to dump goroutines (a test
// checks that a clean run takes the fast path).
var leakDumps atomic.Int64

// leaked lists the bubble's goroutines other than the harness's own. When
// the process has exactly the goroutines it had before the run plus the
// harness's, there is none to list, and the goroutine dump (a stop of the
// world and a traceback of every goroutine) is skipped. The count could
// only hide a leak if a goroutine outside the bubble ended meanwhile; then
// synctest itself reports the leftovers when the bubble ends (see bubble).
func (r *runner) leaked() []facts.Goroutine {
	r.mu.Lock()
	defer r.mu.Unlock()
	if runtime.NumGoroutine() == r.outside+len(r.harness)+int(r.helpers.Load()) {
		return nil
	}
	leakDumps.Add(1)
	var out []gstack.Goroutine
	for _, g := range r.bubbleGoroutines() {
		if !r.harness[g.ID] {
			out = append(out, g)
		}
	}
	return toGoroutines(out)
}

// bubbleGoroutines returns every goroutine of this run's bubble.
func (r *runner) bubbleGoroutines() []gstack.Goroutine {
	return gstack.BubbleOf(gstack.Dump(nil), int(r.bubbleID.Load()))
}

// wedged records a wedge: the bubble is frozen, or made no progress before
// the watchdog fired. why says which, for the trace.
func (r *runner) wedged(by facts.WedgeDetector, why string) { r.wedgedFrom(by, why, nil) }

// wedgedFrom is wedged with the bubble's goroutines read from dump (the
// freeze detector's last one, a frozen bubble does not change), or from a
// fresh dump if dump is nil.
func (r *runner) wedgedFrom(by facts.WedgeDetector, why string, dump []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var gs []gstack.Goroutine
	if dump != nil {
		gs = gstack.BubbleOf(dump, int(r.bubbleID.Load()))
	} else {
		gs = r.bubbleGoroutines()
	}
	d := gstack.Diagnose(gs)
	summary := d.Summary
	if len(d.Blocked) == 0 {
		summary = r.explainNoMutex(gs, why)
	}
	r.obs.Outcome = facts.OutcomeWedge
	r.obs.Wedge = &facts.Wedge{Diagnosis: summary, Headline: gstack.Headline(summary), Goroutines: toGoroutines(gs), By: by,
		Blocked: blockedWaits(d), Stuck: r.stuck(gs)}
	if r.w != nil {
		r.w.trace.addAfterLast("", facts.KindHarness, string(by)+": "+why)
		if r.cfg.realTime {
			r.w.abandonRealTime()
		} else {
			r.w.trace.abandoned.Store(true) // the bubble stays behind: stop its clock
		}
	}
}

// blockedWaits turns a diagnosis into the wedge's typed mutex waits.
func blockedWaits(d gstack.Diagnosis) []facts.BlockedWait {
	var out []facts.BlockedWait
	for _, b := range d.Blocked {
		w := facts.BlockedWait{Waiter: funcs(b.Waiter), Lock: b.Lock, Object: b.LockAddr}
		if len(b.Site.Args) > 0 && (len(b.Site.Uncertain) == 0 || !b.Site.Uncertain[0]) {
			// The receiver of the function that locks: the same for a
			// Lock and an RLock of one object's mutex, where the dump
			// shows the lock's own address only for some calls.
			w.Object = b.Site.Args[0]
		}
		if b.Holder != nil {
			w.Holder = funcs(*b.Holder)
		}
		out = append(out, w)
	}
	return out
}

// stuck lists the functions the harness's own goroutine is in, nil if it is
// not among gs. Call with r.mu held.
func (r *runner) stuck(gs []gstack.Goroutine) []string {
	var out []string
	for _, g := range r.stuckGoroutines(gs) {
		out = append(out, funcs(g)...)
	}
	return out
}

// stuckGoroutines are the goroutines running a step when the wedge was
// declared (an async step runs on its own), then the harness's own.
func (r *runner) stuckGoroutines(gs []gstack.Goroutine) []gstack.Goroutine {
	r.steppingMu.Lock()
	defer r.steppingMu.Unlock()
	var steps, body []gstack.Goroutine
	for _, g := range gs {
		switch {
		case g.ID == r.bodyID:
			body = append(body, g)
		case r.stepping[g.ID] > 0:
			steps = append(steps, g)
		}
	}
	return append(steps, body...)
}

// stepping1 records that the calling goroutine runs a step until the
// returned function is called.
func (r *runner) stepping1() func() {
	var buf [64]byte
	id := gstack.SelfID(buf[:runtime.Stack(buf[:], false)])
	r.steppingMu.Lock()
	if r.stepping == nil {
		r.stepping = map[int64]int{}
	}
	r.stepping[id]++
	r.steppingMu.Unlock()
	return func() {
		r.steppingMu.Lock()
		r.stepping[id]--
		r.steppingMu.Unlock()
	}
}

// funcs lists g's function names, innermost first, without the frames of
// the runtime, sync and internal packages.
func funcs(g gstack.Goroutine) []string {
	var out []string
	for _, f := range g.Frames {
		if strings.HasPrefix(f.Func, "runtime.") || strings.HasPrefix(f.Func, "internal/") || strings.HasPrefix(f.Func, "sync.") {
			continue
		}
		out = append(out, f.Func)
	}
	return out
}

// explainNoMutex describes a wedge without mutex waiters: where the
// harness is stuck says which call never returned, and the goroutines that
// are not durably blocked (runnable ones, or waits synctest does not count
// as durable) are what kept the fake clock from advancing, if it stopped.
func (r *runner) explainNoMutex(gs []gstack.Goroutine, why string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "no goroutine is blocked on a sync.Mutex or sync.RWMutex; %s.\n", why)
	for _, g := range r.stuckGoroutines(gs) {
		who := "a step's goroutine"
		if g.ID == r.bodyID {
			who = "the harness"
		}
		fmt.Fprintf(&b, "%s (goroutine %d) is stuck in: %s\n", who, g.ID, callChain(g, 8))
	}
	for _, g := range gs {
		if r.harness[g.ID] || g.Durable {
			continue
		}
		fmt.Fprintf(&b, "not durably blocked: goroutine %d [%s] in %s\n", g.ID, g.State, callChain(g, 3))
	}
	return b.String()
}

// callChain lists up to n functions of g's stack outside the runtime.
func callChain(g gstack.Goroutine, n int) string {
	fs := funcs(g)
	return strings.Join(fs[:min(n, len(fs))], " <- ")
}

// observation assembles the facts.Observation from the runner and the world.
func (r *runner) observation() *facts.Observation {
	r.mu.Lock()
	obs := r.obs
	w := r.w
	r.mu.Unlock()
	obs.Scenario = r.sc
	if w != nil {
		w.mu.Lock()
		obs.Offer, obs.Answer = w.offer, w.answer
		obs.Steps = append([]facts.StepResult(nil), w.steps...)
		// Async steps finish out of order.
		slices.SortStableFunc(obs.Steps, func(a, b facts.StepResult) int { return cmp.Compare(a.Index, b.Index) })
		obs.Closes = append([]facts.CloseSnapshot(nil), w.closes...)
		w.mu.Unlock()
		obs.Events = w.trace.Events()
		obs.TraceHash = facts.OrderHash(obs.Events)
	}
	return &obs
}

func toGoroutines(gs []gstack.Goroutine) []facts.Goroutine {
	out := make([]facts.Goroutine, 0, len(gs))
	for _, g := range gs {
		top := g.Top()
		out = append(out, facts.Goroutine{
			ID: g.ID, State: g.State, Stack: g.Raw,
			Top: fmt.Sprintf("%s (%s:%d)", top.Func, top.File, top.Line),
		})
	}
	return out
}

func stack() string {
	buf := make([]byte, 64<<10)
	return string(buf[:runtime.Stack(buf, false)])
}
