package sim

import (
	"fmt"
	"runtime"
	"testing"
	"testing/cryptotest"
	"testing/synctest"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
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
