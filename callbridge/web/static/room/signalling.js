// The websocket to the relay and the negotiation over it (join / welcome / offer / answer /
// event / error), and the one RTCPeerConnection of a join. What a dropped connection means
// (show it, or rejoin as a kiosk) is session.js's to decide: main.js registers it here.

import { clearStatus, setConn, showStatus, ui } from './dom.js';
import { renderEvent, showRecording } from './events.js';
import { adoptOrphans, iceGatheringComplete, onTrack } from './peer.js';
import { call, kiosk, room, roomKey } from './state.js';
import { ensureRemoteTile, showPhrases } from './tiles.js';

let onDropped = () => {};    // (s, message): the connection to the server is gone
let onKioskMedia = () => {};  // (s, connectionState), on a kiosk only

export function whenDropped(handler) { onDropped = handler; }
export function whenKioskMedia(handler) { onKioskMedia = handler; }

// ---------------------------------------------------------------- websocket

export function openSocket(s) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const key = roomKey ? '?key=' + encodeURIComponent(roomKey) : '';
  const ws = new WebSocket(scheme + '://' + location.host + '/ws/' + encodeURIComponent(room) + key);
  s.ws = ws;
  setConn('busy', 'Connecting…');
  ws.addEventListener('open', () => {
    send(s, s.watch ? { type: 'join', watch: true } : { type: 'join', name: s.name, consent: s.consent });
  });
  ws.addEventListener('message', (ev) => onSocketMessage(s, ev));
  ws.addEventListener('error', () => {
    if (call.session === s) onDropped(s, 'Lost the connection to the server.');
  });
  ws.addEventListener('close', () => {
    if (call.session !== s) return;
    onDropped(s, s.welcomed ? 'The server closed the connection.' : 'Could not join this room.');
  });
}

export function send(s, msg) {
  if (s.ws && s.ws.readyState === WebSocket.OPEN) s.ws.send(JSON.stringify(msg));
}

function onSocketMessage(s, ev) {
  if (call.session !== s) return;
  let msg;
  try { msg = JSON.parse(ev.data); } catch (_) { return; }
  switch (msg.type) {
    case 'event':
      // Record first, then render: the record must not depend on rendering succeeding.
      window.callbridge.events.push(msg.event);
      try { renderEvent(s, msg.event); } catch (err) { console.warn('render failed', err); }
      break;
    case 'error':
      s.errorShown = true;
      showStatus('Server: ' + (msg.message || 'error'));
      break;
    case 'welcome':
    case 'answer':
    case 'offer':
      // SDP handling is asynchronous; chain it so messages apply strictly in arrival order.
      s.chain = s.chain
        .then(() => (call.session === s ? handleSignal(s, msg) : null))
        .catch((err) => {
          if (call.session !== s) return;
          console.warn('negotiation failed', err);
          showStatus('Media negotiation failed: ' + (err && err.message ? err.message : err));
        });
      break;
    default:
      break;  // unknown types are ignored so the server can add some
  }
}

function handleSignal(s, msg) {
  if (msg.type === 'welcome') return handleWelcome(s, msg);
  if (msg.type === 'answer') return s.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
  return handleServerOffer(s, msg);
}

// ---------------------------------------------------------------- WebRTC

async function handleWelcome(s, msg) {
  s.welcomed = true;
  if (msg.participant) s.name = msg.participant;
  if (msg.max_ad_s > 0) call.maxAdMs = msg.max_ad_s * 1000;
  if (call.localTile) call.localTile.setName(s.name);
  if (!s.errorShown) clearStatus();
  setConn('busy', 'Joined · connecting media…');
  showPhrases((msg.phrases || []).map((p) => p.phrase));
  // Recording is asked apart from face consent, and only where the server records at all.
  const recording = msg.recording || {};
  ui.recordSwitch.hidden = !recording.available || s.watch;
  ui.recordLive.checked = false;
  showRecording(!!recording.on);
  for (const other of msg.participants || []) {
    if (other !== s.name) ensureRemoteTile(other);
  }
  createPeer(s);
  // Audio first, then video: the server relies on this m-line order. A watcher sends nothing.
  const [audio] = s.watch ? ['audio'] : s.localStream.getAudioTracks();
  const [video] = s.watch ? ['video'] : s.localStream.getVideoTracks();
  const direction = s.watch ? 'recvonly' : 'sendonly';
  if (audio) s.pc.addTransceiver(audio, { direction });
  if (video) s.pc.addTransceiver(video, { direction });
  await s.pc.setLocalDescription(await s.pc.createOffer());
  await iceGatheringComplete(s.pc);
  if (call.session !== s) return;
  send(s, { type: 'offer', sdp: s.pc.localDescription.sdp });
}

function createPeer(s) {
  // No STUN/TURN: the relay is reached directly (and on loopback in tests).
  const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle' });
  s.pc = pc;
  pc.addEventListener('track', (ev) => { if (call.session === s) onTrack(s, ev); });
  pc.addEventListener('connectionstatechange', () => {
    if (call.session !== s) return;
    const state = pc.connectionState;
    if (kiosk) onKioskMedia(s, state);
    if (state === 'connected') setConn('live', 'Live');
    else if (state === 'connecting' || state === 'new') setConn('busy', 'Joined · connecting media…');
    else if (state === 'disconnected') setConn('warn', 'Media interrupted…');
    else if (state === 'failed') {
      setConn('error', 'Media connection failed');
      showStatus('The audio/video connection to the server failed. Leave and join again.');
    }
  });
}

async function handleServerOffer(s, msg) {
  // ontrack fires inside setRemoteDescription, so the mid map must be in place before it.
  s.tracks = msg.tracks || {};
  await s.pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
  await s.pc.setLocalDescription(await s.pc.createAnswer());
  await iceGatheringComplete(s.pc);
  if (call.session !== s) return;
  send(s, { type: 'answer', sdp: s.pc.localDescription.sdp });
  adoptOrphans(s);
}
