package pktclass

import (
	"bytes"
	"slices"
	"testing"
)

// dtlsRecord builds a DTLS 1.2 record of content type ct carrying body.
func dtlsRecord(ct byte, body ...byte) []byte {
	rec := []byte{ct, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 7, byte(len(body) >> 8), byte(len(body))}

	return append(rec, body...)
}

// concat joins datagram parts.
func concat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

// samples holds one well-formed payload per class (except Unknown, which
// has several below).
var samples = map[Class][]byte{
	// Binding request: type 0x0001, length 0, magic cookie, transaction ID.
	STUN:                 {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
	DTLSHandshake:        dtlsRecord(22, 1, 0, 0, 0),
	DTLSChangeCipherSpec: dtlsRecord(20, 1),
	DTLSAlert:            dtlsRecord(21, 1, 0), // warning close_notify
	DTLSApplicationData:  dtlsRecord(23, 0xde, 0xad, 0xbe, 0xef),
	DTLSOther:            dtlsRecord(24, 1, 0, 0),
	SRTP:                 {0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, // PT 96, no marker
	SRTCP:                {0x80, 200, 0, 6, 0, 0, 0, 1},              // sender report
	TURNChannel:          {0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4},
	ZRTP:                 {0x10, 0x00, 0x00, 0x01, 'Z', 'R', 'T', 'P'},
	Unknown:              {0xff, 0xff},
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    Class
	}{
		{"empty", nil, Unknown},
		{"stun binding request", samples[STUN], STUN},
		{"stun first byte 0", []byte{0}, STUN},
		{"stun first byte 3", []byte{3, 0}, STUN},
		{"4 is unassigned", []byte{4}, Unknown},
		{"15 is unassigned", []byte{15}, Unknown},
		{"zrtp 16", samples[ZRTP], ZRTP},
		{"zrtp 19", []byte{19}, ZRTP},
		{"dtls change_cipher_spec 20", samples[DTLSChangeCipherSpec], DTLSChangeCipherSpec},
		{"dtls alert 21", samples[DTLSAlert], DTLSAlert},
		{"dtls handshake 22", samples[DTLSHandshake], DTLSHandshake},
		{"dtls application_data 23", samples[DTLSApplicationData], DTLSApplicationData},
		{"dtls heartbeat 24", samples[DTLSOther], DTLSOther},
		{"dtls tls12_cid 25", []byte{25}, DTLSOther},
		{"dtls 1.3 unified header 47", []byte{0x2f, 0, 0}, DTLSOther},
		{"dtls range end 63", []byte{63}, DTLSOther},
		{"turn channel 64", samples[TURNChannel], TURNChannel},
		{"turn channel 79", []byte{79, 0xff}, TURNChannel},
		{"80 is unassigned", []byte{80}, Unknown},
		{"127 is unassigned", []byte{127}, Unknown},
		{"rtp pt 96", samples[SRTP], SRTP},
		{"rtp pt 111 with marker", []byte{0x80, 0x80 | 111}, SRTP},
		{"rtp pt 0", []byte{0x80, 0}, SRTP},
		{"rtp pt 63", []byte{0x80, 63}, SRTP},
		{"rtp pt 96 first byte 191", []byte{191, 96}, SRTP},
		{"rtp one byte", []byte{0x80}, SRTP},
		{"rtcp sender report 200", samples[SRTCP], SRTCP},
		{"rtcp 192 (pt 64 with marker)", []byte{0x80, 192}, SRTCP},
		{"rtcp 223 (pt 95 with marker)", []byte{0x81, 223}, SRTCP},
		{"rtcp pt 64 without marker", []byte{0x80, 64}, SRTCP},
		{"rtcp pt 95 without marker", []byte{0x80, 95}, SRTCP},
		{"rtcp feedback 205", []byte{0x81, 205, 0, 2}, SRTCP},
		{"224 is rtp pt 96 with marker", []byte{0x80, 224}, SRTP},
		{"192 first byte is unassigned", []byte{192, 200}, Unknown},
		{"255", samples[Unknown], Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.payload); got != tt.want {
				t.Errorf("Classify(% x) = %q, want %q", tt.payload, got, tt.want)
			}
		})
	}
}

// TestClassifyEveryFirstByte checks the RFC 7983 ranges exhaustively.
func TestClassifyEveryFirstByte(t *testing.T) {
	for b := 0; b < 256; b++ {
		var want Class
		switch {
		case b <= 3:
			want = STUN
		case b >= 16 && b <= 19:
			want = ZRTP
		case b >= 20 && b <= 63:
			want = map[int]Class{20: DTLSChangeCipherSpec, 21: DTLSAlert, 22: DTLSHandshake, 23: DTLSApplicationData}[b]
			if want == "" {
				want = DTLSOther
			}
		case b >= 64 && b <= 79:
			want = TURNChannel
		case b >= 128 && b <= 191:
			want = SRTP
		default:
			want = Unknown
		}
		if got := Classify([]byte{byte(b), 0}); got != want {
			t.Errorf("Classify(%d, 0) = %q, want %q", b, got, want)
		}
	}
}

func TestDTLSRecords(t *testing.T) {
	hs := dtlsRecord(22, 1, 2, 3)
	ccs := dtlsRecord(20, 1)
	finished := dtlsRecord(22, 0xaa, 0xbb)
	alert := dtlsRecord(21, 1, 0)
	app := dtlsRecord(23, 9, 9, 9, 9, 9)
	tests := []struct {
		name    string
		payload []byte
		want    []Class
	}{
		{"not dtls: empty", nil, nil},
		{"not dtls: stun", samples[STUN], nil},
		{"not dtls: rtp", samples[SRTP], nil},
		{"single handshake", hs, []Class{DTLSHandshake}},
		{"single alert", alert, []Class{DTLSAlert}},
		{"flight 5 tail: handshake, ccs, finished", concat(hs, ccs, finished), []Class{DTLSHandshake, DTLSChangeCipherSpec, DTLSHandshake}},
		{"ccs then finished", concat(ccs, finished), []Class{DTLSChangeCipherSpec, DTLSHandshake}},
		{"app data then alert", concat(app, alert), []Class{DTLSApplicationData, DTLSAlert}},
		{"empty body records", concat(dtlsRecord(23), dtlsRecord(21)), []Class{DTLSApplicationData, DTLSAlert}},
		{"header only (short)", []byte{22, 0xfe, 0xfd}, []Class{DTLSHandshake}},
		{"second header incomplete", concat(hs, []byte{21, 0xfe}), []Class{DTLSHandshake, DTLSAlert}},
		{"length past the end", concat(hs, dtlsRecord(21, 1, 0)[:14]), []Class{DTLSHandshake, DTLSAlert}},
		{"first length past the end", dtlsRecord(22, 1, 2, 3)[:14], []Class{DTLSHandshake}},
		{"trailing garbage", concat(hs, []byte{0xff, 1, 2}), []Class{DTLSHandshake}},
		{"trailing zero padding", concat(alert, []byte{0, 0, 0}), []Class{DTLSAlert}},
		{"tls12_cid stops the walk", concat(dtlsRecord(25, 1, 2, 3), alert), []Class{DTLSOther}},
		{"cid after a record", concat(hs, dtlsRecord(25, 1, 2), alert), []Class{DTLSHandshake, DTLSOther}},
		{"dtls 1.3 unified header stops the walk", concat([]byte{0x2c, 0, 1, 0, 3, 1, 2, 3}, alert), []Class{DTLSOther}},
		{"heartbeat then alert", concat(dtlsRecord(24, 1), alert), []Class{DTLSOther, DTLSAlert}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DTLSRecords(tt.payload)
			if !slices.Equal(got, tt.want) {
				t.Errorf("DTLSRecords(% x) = %v, want %v", tt.payload, got, tt.want)
			}
			if len(got) > 0 && got[0] != Classify(tt.payload) {
				t.Errorf("first record %q != Classify %q", got[0], Classify(tt.payload))
			}
		})
	}
}

func TestHas(t *testing.T) {
	coalesced := concat(dtlsRecord(22, 1), dtlsRecord(20, 1), dtlsRecord(22, 2))
	tests := []struct {
		name    string
		payload []byte
		class   Class
		want    bool
	}{
		{"first record", coalesced, DTLSHandshake, true},
		{"later record", coalesced, DTLSChangeCipherSpec, true},
		{"absent record", coalesced, DTLSAlert, false},
		{"non dtls class on dtls", coalesced, STUN, false},
		{"dtls class on stun", samples[STUN], DTLSHandshake, false},
		{"stun", samples[STUN], STUN, true},
		{"srtcp", samples[SRTCP], SRTCP, true},
		{"srtcp is not srtp", samples[SRTCP], SRTP, false},
		{"unknown", nil, Unknown, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Has(tt.payload, tt.class); got != tt.want {
				t.Errorf("Has(% x, %q) = %v, want %v", tt.payload, tt.class, got, tt.want)
			}
		})
	}
}

func TestClassesAndParse(t *testing.T) {
	want := []Class{STUN, DTLSHandshake, DTLSChangeCipherSpec, DTLSAlert, DTLSApplicationData, DTLSOther, SRTP, SRTCP, TURNChannel, ZRTP, Unknown}
	got := Classes()
	if !slices.Equal(got, want) {
		t.Fatalf("Classes() = %v, want %v", got, want)
	}
	got[0] = "mutated"
	if Classes()[0] != STUN {
		t.Fatal("Classes() shares its backing array")
	}
	if len(samples) != len(want) {
		t.Fatalf("samples cover %d classes, want %d", len(samples), len(want))
	}

	tests := []struct {
		in      string
		want    Class
		wantErr bool
		dtls    bool
	}{
		{"stun", STUN, false, false},
		{"dtls-handshake", DTLSHandshake, false, true},
		{"dtls-change-cipher-spec", DTLSChangeCipherSpec, false, true},
		{"dtls-alert", DTLSAlert, false, true},
		{"dtls-application-data", DTLSApplicationData, false, true},
		{"dtls-other", DTLSOther, false, true},
		{"srtp", SRTP, false, false},
		{"srtcp", SRTCP, false, false},
		{"turn-channel", TURNChannel, false, false},
		{"zrtp", ZRTP, false, false},
		{"unknown", Unknown, false, false},
		{"", "", true, false},
		{"STUN", "", true, false},
		{"dtls", "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseClass(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseClass(%q) = %q, %v", tt.in, got, err)
			}
			if !tt.wantErr {
				if got.IsDTLS() != tt.dtls || !got.Valid() || got.String() != tt.in {
					t.Errorf("%q: IsDTLS=%v Valid=%v String=%q", got, got.IsDTLS(), got.Valid(), got.String())
				}
				if c := Classify(samples[got]); c != got {
					t.Errorf("Classify(samples[%q]) = %q", got, c)
				}
			}
		})
	}
}

func FuzzDTLSRecords(f *testing.F) {
	for _, p := range samples {
		f.Add(p)
	}
	f.Add(concat(dtlsRecord(22, 1), dtlsRecord(20, 1), dtlsRecord(22, 2)))
	f.Fuzz(func(t *testing.T, payload []byte) {
		c := Classify(payload)
		recs := DTLSRecords(payload)
		if c.IsDTLS() != (len(recs) > 0) {
			t.Fatalf("Classify = %q but DTLSRecords = %v", c, recs)
		}
		if len(recs) > 0 && recs[0] != c {
			t.Fatalf("first record %q != %q", recs[0], c)
		}
		for _, r := range recs {
			if !r.IsDTLS() || !Has(payload, r) {
				t.Fatalf("record %q: IsDTLS=%v Has=%v", r, r.IsDTLS(), Has(payload, r))
			}
		}
		if !c.Valid() || !Has(payload, c) {
			t.Fatalf("Classify = %q invalid or not Has", c)
		}
	})
}
