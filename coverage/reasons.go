package coverage

import "regexp"

// reason explains why teardown functions matching it are not reached.
type reason struct {
	file, fn    *regexp.Regexp // matched against FuncCoverage.File and Func
	unreachable bool           // no sweep of two Pion PeerConnections over vnet can reach them
	why         string
}

// reasons are the known reasons, first match wins (pion/webrtc v4.2.26 and
// the module versions it requires; each checked against Pion's sources).
var reasons = []reason{
	{regexp.MustCompile(`pion/dtls/v3/(internal/net|internal/closer|listener\.go|pkg/net)`), regexp.MustCompile(`.`), true,
		"pion/webrtc runs DTLS over the ICE connection (dtls.Client/Server on a net.Conn); dtls's listener, PacketConn and buffer are never used by a PeerConnection"},
	{regexp.MustCompile(`pion/sctp/association\.go`), regexp.MustCompile(`(?i)shutdown|^\(\*Association\)\.(Close|closeAsync)$|isShutdownHandleState|entersShutdownReceived|finishShutdownHandling|processShutdownAcknowledgement|advanceShutdownAfterDataDrain`), true,
		"pion/webrtc ends an association only with Abort (SCTPTransport.Stop) and a Pion remote never sends SHUTDOWN: the graceful shutdown, Close and a client handshake canceled by its context are unreachable between two Pion peers (a browser remote could send SHUTDOWN)"},
	{regexp.MustCompile(`pion/sctp/association\.go`), regexp.MustCompile(`abortProtocolViolation|shouldAbortOnChunkValidationError`), true,
		"needs a malformed SCTP chunk from the remote: a Pion peer never sends one"},
	{regexp.MustCompile(`pion/ice/v4/(tcp_|active_tcp)`), regexp.MustCompile(`.`), true,
		"needs TCP candidates, and vnet (transport/v5 v5.1.4) has no TCP: its DialTCP and ListenTCP return ErrNotSupported"},
	{regexp.MustCompile(`pion/ice/v4/gather\.go`), regexp.MustCompile(`closeRelayEndpoint`), false,
		"runs when a TURN relay's address cannot be resolved or is of a family the agent does not gather (an IPv6 relay for an IPv4-only agent): closesim's relay and peers are IPv4"},
	{regexp.MustCompile(`pion/ice/v4/`), regexp.MustCompile(`Relay|relay`), false,
		"relay paths the TURN dimension did not reach in the sweep"},
	{regexp.MustCompile(`pion/ice/v4/udp_mux\.go`), regexp.MustCompile(`clearWriteAbortState`), true,
		"runs only when the mux socket's SetWriteDeadline fails (udp_mux.go abortWrite), which vnet's sockets and closesim's backpressure never do"},
	{regexp.MustCompile(`pion/ice/v4/udp_mux\.go`), regexp.MustCompile(`(?i)abort`), false,
		"a write through the UDPMux still blocked 5 s (the mux's abort grace) after its candidate closed: reached with the udpmux and stall dimensions together; the uncovered lines are its races with other writers and error branches, not analysed line by line"},
	{regexp.MustCompile(`pion/ice/v4/agent\.go`), regexp.MustCompile(`closeMulticastConn`), false,
		"closes the agent's mDNS socket, which it opens only with mDNS on: vnet has no multicast (its ListenUDP cannot bind 224.0.0.251:5353), so closesim's peers run with SetICEMulticastDNSMode(MulticastDNSModeDisabled) and the socket is always nil"},
	{regexp.MustCompile(`pion/ice/v4/(internal/fakenet|internal/taskloop)`), regexp.MustCompile(`.`), true,
		"a test double, or a Close the ICE agent does not call (it stops its loop by context)"},
	{regexp.MustCompile(`pion/ice/v4/gather\.go`), regexp.MustCompile(`closeConnAndLog`), false,
		"runs when gathering fails to make a candidate of a socket it opened (a candidate creation error, an address-rewrite misconfiguration): closesim's configurations never fail there"},
	{regexp.MustCompile(`pion/interceptor/pkg/ccfb/`), regexp.MustCompile(`.`), false,
		"the ccfb interceptor is not among Pion's defaults: only the interceptors dimension registers it"},
	{regexp.MustCompile(`pion/transport/v5/vnet/(delay_filter|queue|tcp_|udpproxy)`), regexp.MustCompile(`.`), true,
		"vnet pieces closesim's world does not use (it delays and queues with its own injector and backpressure)"},
	{regexp.MustCompile(`.`), regexp.MustCompile(`.`), false,
		"partly reached: the uncovered lines are error branches (an inner Close or a write that fails; vnet's sockets never fail to close) or races the sweep did not hit; not analysed line by line"},
}

// reasonFor returns the reason a teardown function below 100% is not
// fully reached, and whether no sweep of Pion peers can reach it.
func reasonFor(f FuncCoverage) (string, bool) {
	for _, r := range reasons {
		if r.file.MatchString(f.File) && r.fn.MatchString(f.Func) {
			if f.Covered > 0 && r.unreachable {
				continue // partly run: not unreachable after all
			}
			return r.why, r.unreachable
		}
	}
	return "", false
}
