// closesim's browser peer: one RTCPeerConnection driven over the DevTools
// protocol. Every call returns a Promise of a JSON-serialisable value;
// every event the page sees is recorded with its time (ms since start).
(() => {
  const t0 = performance.now();
  const cs = { events: [], channels: {}, pc: null, closedAt: -1 };
  const now = () => performance.now() - t0;
  const rec = (kind, detail) => cs.events.push({ t: now(), kind, detail: String(detail ?? '') });
  // Only 127.0.0.1 candidates, in both directions: nothing is ever
  // addressed to anything but loopback.
  const loopbackOnly = (sdp) => sdp.split('\r\n').filter(l => !l.startsWith('a=candidate:') || / 127\.0\.0\.1 /.test(l)).join('\r\n');
  const watchChannel = (dc) => {
    cs.channels[dc.label] = dc;
    for (const ev of ['open', 'close', 'closing', 'error', 'message', 'bufferedamountlow']) {
      dc.addEventListener(ev, () => { rec('dc ' + ev, dc.label); cs.fire('dc_' + ev, dc.label); });
    }
  };
  cs.armed = [];
  cs.fire = (on, detail) => {
    for (const a of cs.armed) {
      if (!a.done && a.on === on && (!a.state || a.state === detail)) { a.done = true; cs.close(); }
    }
  };
  cs.create = () => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    cs.pc = pc;
    pc.addEventListener('signalingstatechange', () => { rec('signaling', pc.signalingState); cs.fire('signaling_state', pc.signalingState); });
    pc.addEventListener('iceconnectionstatechange', () => { rec('ice', pc.iceConnectionState); cs.fire('ice_connection_state', pc.iceConnectionState); });
    pc.addEventListener('icegatheringstatechange', () => rec('gathering', pc.iceGatheringState));
    pc.addEventListener('connectionstatechange', () => { rec('pc', pc.connectionState); cs.fire('connection_state', pc.connectionState); });
    pc.addEventListener('datachannel', (e) => { rec('datachannel', e.channel.label); watchChannel(e.channel); cs.fire('data_channel', e.channel.label); });
    pc.addEventListener('icecandidate', (e) => rec('candidate', e.candidate ? e.candidate.address : 'end'));
    return true;
  };
  const gathered = () => new Promise((resolve) => {
    if (cs.pc.iceGatheringState === 'complete') return resolve();
    cs.pc.addEventListener('icegatheringstatechange', () => { if (cs.pc.iceGatheringState === 'complete') resolve(); });
  });
  cs.createDataChannel = (label) => { watchChannel(cs.pc.createDataChannel(label)); return true; };
  cs.describe = async (offer) => {
    const d = offer ? await cs.pc.createOffer() : await cs.pc.createAnswer();
    await cs.pc.setLocalDescription(d);
    await gathered();
    return { type: cs.pc.localDescription.type, sdp: loopbackOnly(cs.pc.localDescription.sdp) };
  };
  cs.apply = async (desc) => { await cs.pc.setRemoteDescription({ type: desc.type, sdp: loopbackOnly(desc.sdp) }); return true; };
  cs.send = (label, n, size) => { const dc = cs.channels[label]; for (let i = 0; i < n; i++) dc.send(new Uint8Array(size)); return true; };
  cs.closeChannel = (label) => { cs.channels[label].close(); return true; };
  cs.closeOn = (on, state) => { cs.armed.push({ on, state }); return true; };
  cs.close = () => {
    rec('close call', '');
    cs.pc.close();
    cs.closedAt = now();
    rec('close return', '');
    cs.afterClose = cs.state();
    return true;
  };
  cs.state = () => {
    const pc = cs.pc;
    const st = {
      t: now(), signaling: pc.signalingState, connection: pc.connectionState, ice: pc.iceConnectionState,
      gathering: pc.iceGatheringState, sctp: pc.sctp ? pc.sctp.state : '', dtls: pc.sctp && pc.sctp.transport ? pc.sctp.transport.state : '',
      iceTransport: pc.sctp && pc.sctp.transport && pc.sctp.transport.iceTransport ? pc.sctp.transport.iceTransport.state : '',
      channels: Object.keys(cs.channels).sort().map(l => ({ label: l, state: cs.channels[l].readyState })),
    };
    return st;
  };
  // probe calls, after close, the methods W3C guards with [[IsClosed]], and
  // returns what each did: "no error" or the error's name.
  cs.probe = async () => {
    const out = {};
    const tryAsync = async (name, f) => { try { await f(); out[name] = 'no error'; } catch (e) { out[name] = e.name; } };
    const trySync = (name, f) => { try { f(); out[name] = 'no error'; } catch (e) { out[name] = e.name; } };
    await tryAsync('createOffer', () => cs.pc.createOffer());
    await tryAsync('createAnswer', () => cs.pc.createAnswer());
    await tryAsync('setLocalDescription', () => cs.pc.setLocalDescription({ type: 'offer', sdp: '' }));
    await tryAsync('setRemoteDescription', () => cs.pc.setRemoteDescription({ type: 'offer', sdp: 'v=0\r\n' }));
    await tryAsync('addIceCandidate', () => cs.pc.addIceCandidate({ candidate: 'candidate:1 1 udp 2130706431 127.0.0.1 9 typ host', sdpMid: '0' }));
    trySync('createDataChannel', () => cs.pc.createDataChannel('after-close'));
    trySync('addTransceiver', () => cs.pc.addTransceiver('audio'));
    trySync('setConfiguration', () => cs.pc.setConfiguration({}));
    return out;
  };
  cs.mark = (name) => { rec('mark', name); return now(); };
  cs.record = () => ({ events: cs.events, state: cs.state(), afterClose: cs.afterClose || null, closedAt: cs.closedAt });
  window.cs = cs;
  return true;
})()
