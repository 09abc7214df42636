// callbridge room page: join panel, one RTCPeerConnection to the relay, tiles, captions, ads.
// Plain ES modules, no build step, no external resources (exhibition machines are offline).
// Protocol: see the project's signalling notes (join / welcome / offer / answer / event / error).
//
// This module only wires the others together and starts the page, or the kiosk at /kiosk/ROOM.
// Modules are deferred: they run once the document is parsed, before the load event.

// First: imported modules run in import order, so window.callbridge exists before any other
// module of the page runs (tests and exhibit tooling read it from page load on).
import './global.js';
import { listPhrases, toast, ui } from './dom.js';
import { endSession, leave, onJoinClick, startKiosk, watchKioskMedia } from './session.js';
import { send, whenDropped, whenKioskMedia } from './signalling.js';
import { call, kiosk, room } from './state.js';

function init() {
  whenDropped(endSession);
  whenKioskMedia(watchKioskMedia);
  if (kiosk) { startKiosk(); return; }
  ui.roomName.textContent = room;
  document.title = 'callbridge · ' + room;
  ui.join.addEventListener('click', onJoinClick);
  ui.name.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') onJoinClick(); });
  ui.leave.addEventListener('click', leave);
  ui.consentLive.addEventListener('change', onConsentToggle);
  ui.recordLive.addEventListener('change', onRecordToggle);
  window.addEventListener('pagehide', () => { if (call.session) leave(); });
  showCampaignBeforeJoin();
}

// Best effort: tell people the trigger phrases before they decide on consent.
// Never blocks joining; the authoritative list comes with "welcome".
async function showCampaignBeforeJoin() {
  try {
    const res = await fetch('/api/campaign', { cache: 'no-store' });
    if (!res.ok) return;
    const data = await res.json();
    const phrases = (data.phrases || []).filter((p) => p.enabled !== false && p.live !== false).map((p) => p.phrase);
    if (!phrases.length || call.session) return;
    ui.joinPhrases.textContent = 'In this room, saying ' + listPhrases(phrases) + ' starts an ad.';
    ui.joinPhrases.hidden = false;
  } catch (_) { /* offline or not served: the page works without it */ }
}

// ---------------------------------------------------------------- consent and recording, live

function onRecordToggle() {
  if (!call.session) return;
  send(call.session, { type: 'record', agree: ui.recordLive.checked });
  toast(ui.recordLive.checked ? 'You agree to recording: it starts once everyone in the room agrees'
    : 'You no longer agree: any recording of this call stops now');
}

function onConsentToggle() {
  const session = call.session;
  if (!session) return;
  session.consent = ui.consentLive.checked;
  send(session, { type: 'consent', consent: session.consent });
  toast(session.consent ? 'Your face may now be used in ads in this call'
    : 'Your face will no longer be used in ads');
}

// The DOM is parsed. Wire up now so #join works by the load event.
init();
