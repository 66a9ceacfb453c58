// Package rtcpcount counts what a PeerConnection sends in RTCP, before
// SRTCP encrypts it: an interceptor that sees every outgoing RTCP packet.
// closesim uses it to count RTCP BYEs (the W3C close algorithm sends one per
// RTP stream a sender was sending; on the wire it is encrypted).
package rtcpcount

import (
	"sync/atomic"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
)

// Counter counts the SSRCs of outgoing RTCP BYE packets. Safe for
// concurrent use.
type Counter struct {
	byes atomic.Int64
}

// Byes returns how many SSRCs the BYEs sent so far said goodbye to.
func (c *Counter) Byes() int { return int(c.byes.Load()) }

// NewInterceptor implements interceptor.Factory: an interceptor that
// counts into c.
func (c *Counter) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &counting{c: c}, nil
}

type counting struct {
	interceptor.NoOp
	c *Counter
}

// BindRTCPWriter wraps the RTCP writer: every packet passes through
// unchanged, BYEs are counted.
func (i *counting) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, a interceptor.Attributes) (int, error) {
		for _, p := range pkts {
			if g, ok := p.(*rtcp.Goodbye); ok {
				i.c.byes.Add(int64(len(g.Sources)))
			}
		}
		return w.Write(pkts, a)
	})
}
