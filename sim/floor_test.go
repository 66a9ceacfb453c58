package sim

import (
	"fmt"
	"runtime"
	"testing"
	"testing/cryptotest"
	"testing/synctest"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"

	"github.com/closesim/closesim/scenarios"
)

// BenchmarkPionFloor is BenchmarkConnectDataClose's scenario written by hand
// with nothing of closesim in it: no trace, no socket counting, no
// per-step quiescence, no leak check. Its rate is the floor that Pion's own
// work (ICE, DTLS, SCTP over vnet) sets; the ratio of the two benchmarks is
// closesim's overhead.
func BenchmarkPionFloor(b *testing.B) {
	b.ReportAllocs()
	t := new(testing.T) // see benchT in bench_test.go
	c, err := sharedCertificates(t)
	if err != nil {
		b.Fatal(err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // as sim.Run does
	start := time.Now()
	n := 0
	for b.Loop() {
		cryptotest.SetGlobalRandom(t, 1)
		synctest.Test(t, func(*testing.T) {
			if err := pionFloorRun(c); err != nil {
				b.Error(err)
			}
		})
		n++
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "scenarios/s")
}

func pionFloorRun(certs [2]webrtc.Certificate) error {
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelDisabled
	router, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.0.0.0/24", LoggerFactory: lf})
	if err != nil {
		return err
	}
	var pcs [2]*webrtc.PeerConnection
	for i, ip := range []string{"10.0.0.1", "10.0.0.2"} {
		vn, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		if err != nil {
			return err
		}
		if err := router.AddNet(vn); err != nil {
			return err
		}
		se := webrtc.SettingEngine{LoggerFactory: lf}
		se.SetNet(vn)
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		if err := se.SetEphemeralUDPPortRange(uint16(10000+i), uint16(10000+i)); err != nil {
			return err
		}
		pcs[i], err = webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(
			webrtc.Configuration{Certificates: []webrtc.Certificate{certs[i]}})
		if err != nil {
			return err
		}
	}
	if err := router.Start(); err != nil {
		return err
	}
	a, bpc := pcs[0], pcs[1]
	received := make(chan struct{}, 20)
	bpc.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(webrtc.DataChannelMessage) { received <- struct{}{} })
		dc.OnOpen(func() {
			for range 10 {
				_ = dc.Send(make([]byte, 100))
			}
		})
	})
	dc, err := a.CreateDataChannel("dc", nil)
	if err != nil {
		return err
	}
	dc.OnOpen(func() {
		for range 10 {
			_ = dc.Send(make([]byte, 100))
		}
	})
	dc.OnMessage(func(webrtc.DataChannelMessage) { received <- struct{}{} })
	offer, err := a.CreateOffer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(a)
	if err := a.SetLocalDescription(offer); err != nil {
		return err
	}
	<-gathered
	if err := bpc.SetRemoteDescription(*a.LocalDescription()); err != nil {
		return err
	}
	answer, err := bpc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	gathered = webrtc.GatheringCompletePromise(bpc)
	if err := bpc.SetLocalDescription(answer); err != nil {
		return err
	}
	<-gathered
	if err := a.SetRemoteDescription(*bpc.LocalDescription()); err != nil {
		return err
	}
	for i := range 20 {
		select {
		case <-received:
		case <-time.After(30 * time.Second):
			return fmt.Errorf("only %d of 20 messages arrived", i)
		}
	}
	// As in ConnectDataClose: let the messages settle for 100 ms, then close
	// both peers concurrently.
	time.Sleep(100 * time.Millisecond)
	done := make(chan struct{})
	go func() {
		_ = a.Close()
		close(done)
	}()
	_ = bpc.Close()
	<-done
	time.Sleep(time.Second)
	return router.Stop()
}

// BenchmarkVersusFloor runs BenchmarkPionFloor's work and closesim's
// ConnectDataClose alternately in one loop, so that both see the same
// machine, and reports each one's rate and their ratio (closesim/floor):
// one number for closesim's overhead, not two taken at different times.
// The floor runs under Run's collector policy (pauseGC): otherwise it would
// pay for collecting the garbage of the closesim run before it.
// closesim bench prints these next to a one-worker sweep's rate.
//
//	go test ./sim -run '^$' -bench VersusFloor -benchtime 1000x
func BenchmarkVersusFloor(b *testing.B) {
	t := new(testing.T)
	c, err := sharedCertificates(t)
	if err != nil {
		b.Fatal(err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	sc := scenarios.ConnectDataClose(1, 10)
	var floor, sim time.Duration
	for b.Loop() {
		start := time.Now()
		cryptotest.SetGlobalRandom(t, 1)
		resume := pauseGC() // the collector policy Run uses, so both pay for their own garbage
		synctest.Test(t, func(*testing.T) {
			if err := pionFloorRun(c); err != nil {
				b.Error(err)
			}
		})
		resume()
		floor += time.Since(start)

		start = time.Now()
		if obs, err := Run(t, sc); err != nil || obs.Outcome != facts.OutcomeOK {
			b.Fatalf("closesim run: %v %v", err, obs.Outcome)
		}
		sim += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(n/floor.Seconds(), "floor-scenarios/s")
	b.ReportMetric(n/sim.Seconds(), "closesim-scenarios/s")
	b.ReportMetric(floor.Seconds()/sim.Seconds(), "ratio")
}
