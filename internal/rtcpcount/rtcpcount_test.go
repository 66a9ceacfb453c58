package rtcpcount

import (
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
)

func TestCountsByeSources(t *testing.T) {
	tests := []struct {
		name string
		pkts [][]rtcp.Packet
		want int
	}{
		{"none", nil, 0},
		{"receiver report only", [][]rtcp.Packet{{&rtcp.ReceiverReport{SSRC: 1}}}, 0},
		{"one bye, two sources", [][]rtcp.Packet{{&rtcp.ReceiverReport{SSRC: 1}, &rtcp.Goodbye{Sources: []uint32{1, 2}}}}, 2},
		{"two writes", [][]rtcp.Packet{{&rtcp.Goodbye{Sources: []uint32{7}}}, {&rtcp.Goodbye{Sources: []uint32{8}}}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Counter
			i, err := c.NewInterceptor("")
			if err != nil {
				t.Fatal(err)
			}
			written := 0
			w := i.BindRTCPWriter(interceptor.RTCPWriterFunc(func(p []rtcp.Packet, _ interceptor.Attributes) (int, error) {
				written += len(p)
				return 0, nil
			}))
			want := 0
			for _, p := range tt.pkts {
				want += len(p)
				if _, err := w.Write(p, nil); err != nil {
					t.Fatal(err)
				}
			}
			if c.Byes() != tt.want || written != want {
				t.Errorf("byes %d, packets passed %d; want %d, %d", c.Byes(), written, tt.want, want)
			}
		})
	}
}
