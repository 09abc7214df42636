// One join, from the click (or a kiosk's own start) to leaving: the camera, the call view,
// and tearing it all down. A kiosk rejoins by itself after any drop, backing off.

import { endAd, hideBanner } from './ads.js';
import { clearStatus, setConn, showStatus, ui } from './dom.js';
import { showRecording } from './events.js';
import { openSocket, send } from './signalling.js';
import { ads, call, kiosk, rawAudio, room, tiles } from './state.js';
import { attachLocalVideo, createTile, removeRemoteTile, updateLayout } from './tiles.js';

const KIOSK_RETRY_MS = [1000, 2000, 5000, 10000];  // a kiosk rejoins after a drop, backing off to 10 s
const KIOSK_STALL_MS = 5000;         // media "disconnected" this long: rejoin rather than wait for "failed"
let kioskTries = 0;

// ---------------------------------------------------------------- joining

export async function onJoinClick() {
  if (call.session) return;
  const name = ui.name.value;
  if (!name.trim()) {
    showStatus('Please type your name first.');
    ui.name.focus();
    return;
  }
  clearStatus();
  const s = newSession(name, ui.consent.checked);
  call.session = s;
  ui.join.disabled = true;
  setConn('busy', 'Starting camera…');
  try {
    s.localStream = await navigator.mediaDevices.getUserMedia(mediaConstraints());
  } catch (err) {
    if (call.session === s) endSession(s, describeMediaError(err));
    return;
  }
  if (call.session !== s) { stopStream(s.localStream); return; }  // left while the prompt was open
  enterCallUi(s);
  openSocket(s);
}

export function startKiosk() {
  document.body.classList.add('kiosk');
  document.title = 'callbridge · ' + room;
  ui.joinPanel.hidden = true;
  const s = newSession('', false);
  s.watch = true;
  call.session = s;
  enterCallUi(s);
  openSocket(s);
}

// After a drop: rejoin, sooner at first, then every 10 s for as long as it takes.
function retryKiosk() {
  const wait = KIOSK_RETRY_MS[Math.min(kioskTries, KIOSK_RETRY_MS.length - 1)];
  kioskTries += 1;
  setTimeout(() => { if (!call.session) startKiosk(); }, wait);
}

export function watchKioskMedia(s, state) {
  clearTimeout(s.stallTimer);
  if (state === 'connected') kioskTries = 0;
  else if (state === 'failed') endSession(s, 'media failed');
  else if (state === 'disconnected') s.stallTimer = setTimeout(() => endSession(s, 'media stalled'), KIOSK_STALL_MS);
}

function newSession(name, consent) {
  return {
    name,                      // replaced by the server's "welcome".participant
    consent,
    ws: null,
    pc: null,
    localStream: null,
    chain: Promise.resolve(),  // serialises welcome/offer/answer handling
    tracks: {},                // mid -> {participant, kind}, from the latest server offer
    orphans: new Map(),        // mid -> track that arrived before its mid was mapped
    errorShown: false,
    welcomed: false,
  };
}

function mediaConstraints() {
  const audio = rawAudio
    ? { echoCancellation: false, noiseSuppression: false, autoGainControl: false }
    : true;
  return { audio, video: { width: 640, height: 480, frameRate: 15 } };
}

function describeMediaError(err) {
  const name = err && err.name;
  if (name === 'NotAllowedError') return 'Camera and microphone access was refused. Allow it in the browser to join.';
  if (name === 'NotFoundError') return 'No camera or microphone was found.';
  if (name === 'NotReadableError') return 'The camera or microphone is in use by another program.';
  return 'Could not open the camera and microphone' + (err && err.message ? ': ' + err.message : '.');
}

function enterCallUi(s) {
  ui.joinPanel.hidden = true;
  ui.call.hidden = false;
  ui.consentLive.checked = s.consent;
  ui.phrases.textContent = '';
  if (s.localStream) {
    call.localTile = createTile(s.name, { local: true });
    attachLocalVideo(call.localTile, s.localStream);
    ui.tiles.prepend(call.localTile.root);
  }
  updateLayout();
}

// ---------------------------------------------------------------- leaving

export function leave() {
  const s = call.session;
  if (!s) return;
  send(s, { type: 'leave' });
  endSession(s, null);
  setConn('idle', 'Left the call');
}

// Tear everything down for this join; the page can join again afterwards.
export function endSession(s, message) {
  if (call.session !== s) return;
  call.session = null;
  if (s.pc) s.pc.close();
  if (s.ws && s.ws.readyState <= WebSocket.OPEN) s.ws.close();
  stopStream(s.localStream);
  for (const name of Array.from(ads.keys())) endAd(name);
  for (const name of Array.from(tiles.keys())) removeRemoteTile(name);
  showRecording(false);
  const localTile = call.localTile;
  if (localTile) {
    clearTimeout(localTile.staleTimer);
    if (localTile.video) localTile.video.srcObject = null;
    localTile.root.remove();
    call.localTile = null;
  }
  document.body.classList.remove('ad-playing');
  hideBanner();
  ui.tiles.textContent = '';
  ui.call.hidden = true;
  ui.joinPanel.hidden = false;
  ui.join.disabled = false;
  setConn(message ? 'error' : 'idle', message ? 'Disconnected' : 'Not joined');
  if (kiosk) {
    clearTimeout(s.stallTimer);
    retryKiosk();
    return;
  }
  // Keep a server error (e.g. a refused name) visible rather than a generic message.
  if (message && !s.errorShown) showStatus(message);
}

function stopStream(stream) {
  if (stream) stream.getTracks().forEach((t) => t.stop());
}
