package facts

// APIProbe is the result of one API call made on a peer after its close.
type APIProbe struct {
	Peer string `json:"peer"`
	// Call names the method, e.g. "CreateOffer" or "DataChannel(dc).Send".
	Call string `json:"call"`
	// Err is the error text, "" if the call succeeded.
	Err string `json:"err,omitempty"`
	// ErrType is the error's type: "InvalidStateError" for
	// rtcerr.InvalidStateError (DOMException InvalidStateError in the
	// W3C spec), another rtcerr type name, "error" for a plain error, ""
	// for none.
	ErrType string `json:"err_type,omitempty"`
	// Panic is set if the call panicked.
	Panic string `json:"panic,omitempty"`
}
