// closesim's browser peer: one RTCPeerConnection driven over the DevTools
// protocol. Every call returns a Promise of a JSON-serialisable value;
// every event the page sees is recorded with its time (ms since start).
(() => {
  const t0 = performance.now();
  const cs = { events: [], channels: {}, pc: null, closedAt: -1 };
  const now = () => performance.now() - t0;
  const rec = (kind, detail, transport) => cs.events.push({ t: now(), kind, detail: String(detail ?? ''), transport: transport || 0 });
  // Only 127.0.0.1 candidates, in both directions: nothing is ever
  // addressed to anything but loopback.
  const loopbackOnly = (sdp) => sdp.split('\r\n').filter(l => !l.startsWith('a=candidate:') || / 127\.0\.0\.1 /.test(l)).join('\r\n');
  const watchChannel = (dc) => {
    cs.channels[dc.label] = dc;
    for (const ev of ['open', 'close', 'closing', 'error', 'message', 'bufferedamountlow']) {
      dc.addEventListener(ev, () => { rec('dc ' + ev, dc.label); cs.fire('dc_' + ev, dc.label); });
    }
  };
  // The SCTP and DTLS transports exist once a description with a data
  // section was applied, and can be replaced by a later one (with BUNDLE,
  // the answer's transport replaces the one the offer made, which closes):
  // every description applied watches the current ones. Only the current
  // transports' changes count as the connection's.
  const watchTransports = () => {
    const sctp = cs.pc.sctp;
    if (!sctp || cs.watchedSctp === sctp) return;
    cs.watchedSctp = sctp;
    const id = ++cs.transports;
    sctp.closesimId = id;
    const dtls = sctp.transport;
    // A replaced transport can report its close before pc.sctp changes, so
    // each event names its transport; the record keeps the current one's.
    sctp.addEventListener('statechange', () => rec('sctp', sctp.state, id));
    dtls.addEventListener('statechange', () => {
      rec('dtls', dtls.state, id);
      if (cs.pc.sctp === sctp) cs.fire('dtls_state', dtls.state);
    });
  };
  cs.transports = 0;
  cs.armed = [];
  cs.fire = (on, detail) => {
    for (const a of cs.armed) {
      if (!a.done && a.on === on && (!a.state || a.state === detail)) { a.done = true; cs.close(); }
    }
  };
  cs.create = () => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    cs.pc = pc;
    pc.addEventListener('signalingstatechange', () => { watchTransports(); rec('signaling', pc.signalingState); cs.fire('signaling_state', pc.signalingState); });
    pc.addEventListener('iceconnectionstatechange', () => { rec('ice', pc.iceConnectionState); cs.fire('ice_connection_state', pc.iceConnectionState); });
    pc.addEventListener('icegatheringstatechange', () => rec('gathering', pc.iceGatheringState));
    pc.addEventListener('connectionstatechange', () => { rec('pc', pc.connectionState); cs.fire('connection_state', pc.connectionState); });
    pc.addEventListener('datachannel', (e) => { rec('datachannel', e.channel.label); watchChannel(e.channel); cs.fire('data_channel', e.channel.label); });
    pc.addEventListener('icecandidate', (e) => rec('candidate', e.candidate ? e.candidate.address : 'end'));
    pc.addEventListener('track', (e) => { rec('track', e.track.kind); e.track.addEventListener('ended', () => rec('track ended', e.track.kind)); });
    return true;
  };
  // A close fires no more events: it releases what waits on one.
  cs.waiters = [];
  const gathered = () => new Promise((resolve) => {
    if (cs.pc.iceGatheringState === 'complete' || cs.pc.signalingState === 'closed') return resolve();
    cs.waiters.push(resolve);
    cs.pc.addEventListener('icegatheringstatechange', () => { if (cs.pc.iceGatheringState === 'complete') resolve(); });
  });
  cs.addTransceiver = (kind) => { cs.pc.addTransceiver(kind); return true; };
  cs.stopTransceivers = () => { for (const t of cs.pc.getTransceivers()) { t.stop(); rec('transceiver stop', ''); } return true; };
  cs.createDataChannel = (label) => { watchChannel(cs.pc.createDataChannel(label)); return true; };
  cs.describe = async (offer) => {
    const d = offer ? await cs.pc.createOffer() : await cs.pc.createAnswer();
    await cs.pc.setLocalDescription(d);
    watchTransports();
    await gathered();
    return { type: cs.pc.localDescription.type, sdp: loopbackOnly(cs.pc.localDescription.sdp) };
  };
  cs.apply = async (desc) => { await cs.pc.setRemoteDescription({ type: desc.type, sdp: loopbackOnly(desc.sdp) }); watchTransports(); return true; };
  cs.send = (label, n, size) => { const dc = cs.channels[label]; for (let i = 0; i < n; i++) dc.send(new Uint8Array(size)); return true; };
  cs.closeChannel = (label) => { cs.channels[label].close(); return true; };
  cs.closeOn = (on, state) => { cs.armed.push({ on, state }); return true; };
  cs.close = () => {
    cs.beforeClose = cs.state();
    rec('close call', '');
    cs.pc.close();
    cs.closedAt = now();
    rec('close return', '');
    cs.afterClose = cs.state();
    for (const w of cs.waiters.splice(0)) w();
    return true;
  };
  cs.state = () => {
    const pc = cs.pc;
    const st = {
      t: now(), signaling: pc.signalingState, connection: pc.connectionState, ice: pc.iceConnectionState,
      gathering: pc.iceGatheringState, sctp: pc.sctp ? pc.sctp.state : '', transport: pc.sctp ? pc.sctp.closesimId || 0 : 0, dtls: pc.sctp && pc.sctp.transport ? pc.sctp.transport.state : '',
      iceTransport: pc.sctp && pc.sctp.transport && pc.sctp.transport.iceTransport ? pc.sctp.transport.iceTransport.state : '',
      channels: Object.keys(cs.channels).sort().map(l => ({ label: l, state: cs.channels[l].readyState })),
      transceivers: pc.getTransceivers().map(t => ({ mid: t.mid || '', kind: t.receiver.track.kind, direction: t.direction, currentDirection: t.currentDirection || '' })),
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
  // transportStats are getStats' transport entries: what a page
  // monitoring its connection reads (a closed connection's getStats
  // still resolves).
  const transportStats = async () => {
    try {
      const out = [];
      (await cs.pc.getStats()).forEach((r) => { if (r.type === 'transport') out.push({ id: r.id, dtlsState: r.dtlsState || '', iceState: r.iceState || '' }); });
      return out;
    } catch (e) { return [{ id: 'error', dtlsState: e.name, iceState: '' }]; }
  };
  cs.record = async () => ({ events: cs.events, state: cs.state(), beforeClose: cs.beforeClose || null, afterClose: cs.afterClose || null, closedAt: cs.closedAt, stats: await transportStats() });
  window.cs = cs;
  return true;
})()
