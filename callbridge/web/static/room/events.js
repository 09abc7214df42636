// Room events from the server, drawn on the page: people joining and leaving, captions,
// trigger flashes, ads, whose face the relay holds, the campaign's phrases, recording.

import { endAd, startAd } from './ads.js';
import { quote, toast, ui } from './dom.js';
import { tileFor, tiles } from './state.js';
import { ensureRemoteTile, removeRemoteTile, showPhrases, showTranscript } from './tiles.js';

const TRIGGER_FLASH_MS = 2600;

export function renderEvent(s, ev) {
  if (!ev || typeof ev !== 'object') return;
  switch (ev.type) {
    case 'joined': return onJoined(s, ev);
    case 'left': return onLeft(s, ev);
    case 'transcript': return onTranscript(ev);
    case 'trigger': return onTrigger(ev);
    case 'ad-start': return startAd(ev);
    case 'ad-end': return endAd(ev.participant);
    case 'face': return onFace(ev);
    // The campaign changed (admin page, API or CLI): the enabled phrases, live.
    case 'campaign': return showPhrases(ev.phrases || []);
    case 'recording': return onRecording(ev);
    // Someone could not join (the room is full): said openly, without their name.
    case 'refused': return toast('Someone could not join: ' + (ev.reason || 'refused'));
    default: return undefined;
  }
}

function onJoined(s, ev) {
  if (ev.participant === s.name) return;
  const isNew = !tiles.has(ev.participant);
  ensureRemoteTile(ev.participant);
  if (isNew) toast(ev.participant + ' joined');
}

function onLeft(s, ev) {
  if (ev.participant === s.name) return;
  if (tiles.has(ev.participant)) toast(ev.participant + ' left');
  removeRemoteTile(ev.participant);
}

function onTranscript(ev) {
  const tile = tileFor(ev.participant);
  if (!tile) return;
  showTranscript(tile, ev);
}

// Say openly, on every page, whose face the relay holds for an ad (in RAM only).
function onFace(ev) {
  const tile = tileFor(ev.participant);
  if (!tile) return;
  tile.root.classList.toggle('face-held', !!ev.ready);
  tile.root.title = ev.ready ? 'Face held in memory for this call\'s ads; wiped when they leave' : '';
}

function onTrigger(ev) {
  const tile = tileFor(ev.participant);
  if (!tile) return;
  tile.flash.textContent = quote(ev.phrase || ev.heard || '');
  // Restart the animation even if a flash is already running.
  tile.root.classList.remove('triggered');
  void tile.root.offsetWidth;
  tile.root.classList.add('triggered');
  clearTimeout(tile.flashTimer);
  tile.flashTimer = setTimeout(() => tile.root.classList.remove('triggered'), TRIGGER_FLASH_MS);
}

function onRecording(ev) {
  showRecording(!!ev.on);
  if (ev.reason) toast(ev.reason);
  else toast(ev.on ? 'This call is now being recorded' : 'Recording stopped');
}

export function showRecording(on) {
  ui.rec.hidden = !on;
}
