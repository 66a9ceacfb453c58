package scenarios

import "time"

// Track labels of the built-in media scenarios.
const (
	AudioLabel = "audio"
	VideoLabel = "video"
)

// ConnectMediaClose returns a scenario in which A sends an audio and a video
// track to B (and, if data is set, also opens data channel "dc"), both
// connect, A writes samples long enough for RTCP reports to flow both
// ways, and then closer closes with mode.
func ConnectMediaClose(seed uint64, data bool, closer Peer, mode CloseMode) Scenario {
	sc := Base(seed)
	sc.Name = "connect-media-close"
	if data {
		sc.Name = "connect-media-data-close"
		sc.Steps = append(sc.Steps, Step{Kind: KindCreateDataChannel, Peer: PeerA, Label: DataChannelLabel})
	}
	sc.Steps = append(sc.Steps,
		Step{Kind: KindAddTrack, Peer: PeerA, Label: AudioLabel, Media: MediaAudio},
		Step{Kind: KindAddTrack, Peer: PeerA, Label: VideoLabel, Media: MediaVideo, Direction: "sendonly"},
		Step{Kind: KindOffer, Peer: PeerA},
		Step{Kind: KindApplyOffer, Peer: PeerB},
		Step{Kind: KindAnswer, Peer: PeerB},
		Step{Kind: KindApplyAnswer, Peer: PeerA},
		Step{Kind: KindAwait, Peer: PeerA, State: StatePCConnected},
		Step{Kind: KindAwait, Peer: PeerB, State: StatePCConnected},
	)
	if data {
		sc.Steps = append(sc.Steps, Step{Kind: KindSend, Peer: PeerA, Label: DataChannelLabel, Count: 5, Size: 100})
	}
	sc.Steps = append(sc.Steps,
		Step{Kind: KindWriteMedia, Peer: PeerA, Label: AudioLabel, Count: 100, Size: 160, Duration: Duration(20 * time.Millisecond)},
		Step{Kind: KindWriteMedia, Peer: PeerA, Label: VideoLabel, Count: 10, Size: 3000, Duration: Duration(33 * time.Millisecond)},
		Step{Kind: KindClose, Peer: closer, Mode: mode},
	)
	sc.Settle = Duration(time.Second)
	return sc
}
