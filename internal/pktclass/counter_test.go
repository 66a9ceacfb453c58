package pktclass

import (
	"slices"
	"sync"
	"testing"
)

func TestCounter(t *testing.T) {
	type count struct {
		from, to string
		payload  []byte
	}
	tests := []struct {
		name   string
		counts []count
		want   []Entry
		totals map[Class]int
	}{
		{
			name: "empty",
			want: []Entry{},
		},
		{
			name: "sorted by from, to, class order",
			counts: []count{
				{"b", "a", samples[SRTP]},
				{"a", "b", samples[Unknown]},
				{"a", "b", samples[DTLSAlert]},
				{"a", "b", samples[STUN]},
				{"a", "b", samples[STUN]},
				{"a", "c", samples[STUN]},
				{"b", "a", samples[STUN]},
			},
			want: []Entry{
				{From: "a", To: "b", Class: STUN, Packets: 2, Bytes: 2 * len(samples[STUN])},
				{From: "a", To: "b", Class: DTLSAlert, Packets: 1, Bytes: len(samples[DTLSAlert])},
				{From: "a", To: "b", Class: Unknown, Packets: 1, Bytes: len(samples[Unknown])},
				{From: "a", To: "c", Class: STUN, Packets: 1, Bytes: len(samples[STUN])},
				{From: "b", To: "a", Class: STUN, Packets: 1, Bytes: len(samples[STUN])},
				{From: "b", To: "a", Class: SRTP, Packets: 1, Bytes: len(samples[SRTP])},
			},
			totals: map[Class]int{STUN: 4, SRTP: 1, DTLSAlert: 1, Unknown: 1, SRTCP: 0},
		},
		{
			name: "coalesced dtls counts by its first record",
			counts: []count{
				{"a", "b", concat(dtlsRecord(22, 1), dtlsRecord(20, 1))},
				{"a", "b", nil},
			},
			want: []Entry{
				{From: "a", To: "b", Class: DTLSHandshake, Packets: 1, Bytes: 2*13 + 2},
				{From: "a", To: "b", Class: Unknown, Packets: 1, Bytes: 0},
			},
			totals: map[Class]int{DTLSHandshake: 1, DTLSChangeCipherSpec: 0, Unknown: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Counter
			for _, n := range tt.counts {
				if got, want := c.Count(n.from, n.to, n.payload), Classify(n.payload); got != want {
					t.Errorf("Count returned %q, want %q", got, want)
				}
			}
			if got := c.Snapshot(); !slices.Equal(got, tt.want) {
				t.Errorf("Snapshot() =\n%v\nwant\n%v", got, tt.want)
			}
			for class, want := range tt.totals {
				if got := c.Total(class); got != want {
					t.Errorf("Total(%q) = %d, want %d", class, got, want)
				}
			}
		})
	}
}

func TestCounterConcurrent(t *testing.T) {
	var c Counter
	var wg sync.WaitGroup
	for _, class := range Classes() {
		for range 4 {
			wg.Go(func() {
				for range 100 {
					c.Count("x", "y", samples[class])
					_ = c.Snapshot()
				}
			})
		}
	}
	wg.Wait()

	snap := c.Snapshot()
	if len(snap) != len(Classes()) {
		t.Fatalf("Snapshot has %d rows, want %d", len(snap), len(Classes()))
	}
	for i, e := range snap {
		if e.Class != Classes()[i] || e.Packets != 400 || e.Bytes != 400*len(samples[e.Class]) {
			t.Errorf("row %d = %+v", i, e)
		}
	}
}
