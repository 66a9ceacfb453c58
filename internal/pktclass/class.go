// Package pktclass classifies the UDP datagrams of a WebRTC session by the
// first-byte demultiplexing of RFC 7983 (which updates RFC 5764 §5.1.2), and
// injects faults into a Pion vnet per packet class: drop, delay or duplicate
// one class, in one direction, from a virtual time on or for the first N
// packets.
//
// The demultiplexing rule on the first byte B of a datagram is:
//
//	B in [0..3]     -> STUN
//	B in [16..19]   -> ZRTP
//	B in [20..63]   -> DTLS (the content type of the first record)
//	B in [64..79]   -> TURN ChannelData
//	B in [128..191] -> RTP or RTCP (SRTP or SRTCP in WebRTC)
//	anything else   -> Unknown
//
// RTP and RTCP share a port in WebRTC (RFC 5761); they are told apart by the
// second byte: RTCP packet types 192..223 occupy the marker bit and payload
// type field of RTP, so a datagram whose payload type (second byte with the
// marker bit masked off) is in 64..95 is RTCP (RFC 5761 §4), as libwebrtc
// does.
//
// A datagram may carry several DTLS records (pion/dtls packs a flight's
// records into as few datagrams as the MTU allows, e.g. ChangeCipherSpec and
// the encrypted Finished handshake). [Classify] names the datagram by its
// first record; [DTLSRecords] lists every record.
//
// Three tools build on the classifier: [Counter] counts classes per
// direction; [Filter] is a drop-only vnet.ChunkFilter; [Injector] also
// delays and duplicates packets (see [Injector] for how, and why it needs the
// router).
package pktclass

import (
	"fmt"
)

// Class names the kind of a UDP datagram. Its values are stable strings
// meant for traces, reports and scenario files.
type Class string

// The packet classes, in the order [Classes] returns them.
const (
	// STUN is a STUN message (first byte 0..3), including ICE
	// connectivity checks and consent freshness.
	STUN Class = "stun"
	// DTLSHandshake is a DTLS record of content type handshake (22).
	DTLSHandshake Class = "dtls-handshake"
	// DTLSChangeCipherSpec is a DTLS record of content type
	// change_cipher_spec (20).
	DTLSChangeCipherSpec Class = "dtls-change-cipher-spec"
	// DTLSAlert is a DTLS record of content type alert (21), for example
	// close_notify.
	DTLSAlert Class = "dtls-alert"
	// DTLSApplicationData is a DTLS record of content type
	// application_data (23); in WebRTC it carries SCTP (data channels).
	DTLSApplicationData Class = "dtls-application-data"
	// DTLSOther is any other DTLS first byte (24..63): heartbeat (24),
	// tls12_cid (25), DTLS 1.3 unified headers (32..63) and unassigned
	// types.
	DTLSOther Class = "dtls-other"
	// SRTP is an RTP packet (first byte 128..191, payload type not in
	// 64..95).
	SRTP Class = "srtp"
	// SRTCP is an RTCP packet (first byte 128..191, second byte with the
	// marker bit masked off in 64..95).
	SRTCP Class = "srtcp"
	// TURNChannel is TURN ChannelData (first byte 64..79).
	TURNChannel Class = "turn-channel"
	// ZRTP is a ZRTP packet (first byte 16..19).
	ZRTP Class = "zrtp"
	// Unknown is anything else, including an empty datagram.
	Unknown Class = "unknown"
)

// DTLS content types (RFC 6347 §4.1, RFC 5246 §6.2.1).
const (
	contentChangeCipherSpec = 20
	contentAlert            = 21
	contentHandshake        = 22
	contentApplicationData  = 23
	contentTLS12CID         = 25 // RFC 9146: the header carries a CID of negotiated length
	dtlsUnifiedHeaderFirst  = 32 // RFC 9147 §4: 0b001xxxxx, DTLS 1.3 ciphertext
)

// dtlsHeaderLen is the length of a DTLS 1.0/1.2 record header: type (1),
// version (2), epoch (2), sequence number (6), length (2).
const dtlsHeaderLen = 13

// allClasses is the stable order of Classes.
var allClasses = [...]Class{
	STUN,
	DTLSHandshake,
	DTLSChangeCipherSpec,
	DTLSAlert,
	DTLSApplicationData,
	DTLSOther,
	SRTP,
	SRTCP,
	TURNChannel,
	ZRTP,
	Unknown,
}

// Classes returns every class in a stable order (STUN, the DTLS classes,
// SRTP, SRTCP, TURNChannel, ZRTP, Unknown). The slice is the caller's.
func Classes() []Class {
	out := make([]Class, len(allClasses))
	copy(out, allClasses[:])

	return out
}

// classIndex returns the position of c in Classes, or len(Classes) for an
// invalid class, so that sorting by it is total.
func classIndex(c Class) int {
	for i, k := range allClasses {
		if k == c {
			return i
		}
	}

	return len(allClasses)
}

// Valid reports whether c is one of the classes listed by [Classes].
func (c Class) Valid() bool {
	return classIndex(c) < len(allClasses)
}

// IsDTLS reports whether c is one of the DTLS classes.
func (c Class) IsDTLS() bool {
	switch c {
	case DTLSHandshake, DTLSChangeCipherSpec, DTLSAlert, DTLSApplicationData, DTLSOther:
		return true
	}

	return false
}

// String returns the class name.
func (c Class) String() string {
	return string(c)
}

// ParseClass returns the class named s (as in [Classes]); it fails for any
// other string.
func ParseClass(s string) (Class, error) {
	c := Class(s)
	if !c.Valid() {
		return "", fmt.Errorf("pktclass: unknown class %q", s)
	}

	return c, nil
}

// Classify returns the class of a UDP payload by its first byte (RFC 7983),
// the second byte for RTP versus RTCP (RFC 5761 §4), and for DTLS the
// content type of the first record. It never fails: malformed or empty
// payloads are [Unknown]. A payload of a single byte in 128..191 is [SRTP],
// as Pion's demultiplexer would route it.
func Classify(payload []byte) Class {
	if len(payload) == 0 {
		return Unknown
	}
	b := payload[0]
	switch {
	case b <= 3:
		return STUN
	case b >= 16 && b <= 19:
		return ZRTP
	case b >= 20 && b <= 63:
		return dtlsClass(b)
	case b >= 64 && b <= 79:
		return TURNChannel
	case b >= 128 && b <= 191:
		if len(payload) >= 2 {
			if pt := payload[1] & 0x7f; pt >= 64 && pt <= 95 {
				return SRTCP
			}
		}

		return SRTP
	}

	return Unknown
}

// dtlsClass maps a DTLS first byte (20..63) to its class.
func dtlsClass(b byte) Class {
	switch b {
	case contentChangeCipherSpec:
		return DTLSChangeCipherSpec
	case contentAlert:
		return DTLSAlert
	case contentHandshake:
		return DTLSHandshake
	case contentApplicationData:
		return DTLSApplicationData
	}

	return DTLSOther
}

// DTLSRecords lists the content type class of every DTLS record in a
// datagram, in order. It returns nil unless [Classify] says the payload is
// DTLS; otherwise the first element always equals Classify(payload).
//
// The walk follows each DTLS 1.0/1.2 record header's length field. It lists
// a record as soon as its first byte is seen and stops after a record whose
// header is incomplete or whose length runs past the end of the datagram,
// after a tls12_cid record (25: its header carries a connection ID whose
// length only the endpoints know) or a DTLS 1.3 unified header (32..63: no
// fixed layout), and before trailing bytes that cannot start a DTLS record.
// Those last records are listed as [DTLSOther].
func DTLSRecords(payload []byte) []Class {
	if !Classify(payload).IsDTLS() {
		return nil
	}

	var out []Class
	for rest := payload; len(rest) > 0; {
		b := rest[0]
		if b < contentChangeCipherSpec || b > 63 {
			break // trailing bytes that are not a DTLS record
		}
		out = append(out, dtlsClass(b))
		if b == contentTLS12CID || b >= dtlsUnifiedHeaderFirst || len(rest) < dtlsHeaderLen {
			break
		}
		n := dtlsHeaderLen + (int(rest[11])<<8 | int(rest[12]))
		if n > len(rest) {
			break
		}
		rest = rest[n:]
	}

	return out
}

// Has reports whether a datagram is of class c, counting every DTLS record
// for the DTLS classes: a datagram carrying a ChangeCipherSpec record after
// a handshake record has DTLSChangeCipherSpec even though it is classified
// as DTLSHandshake. For the other classes it is Classify(payload) == c.
func Has(payload []byte, c Class) bool {
	first := Classify(payload)
	if first == c {
		return true
	}
	if !c.IsDTLS() || !first.IsDTLS() {
		return false
	}
	for _, r := range DTLSRecords(payload) {
		if r == c {
			return true
		}
	}

	return false
}
