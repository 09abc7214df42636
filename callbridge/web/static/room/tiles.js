// The tiles: one per person (our own first), the grid layout, the card shown while alone,
// the trigger phrases line above the grid, and the captions under each tile.

import { endAd, enlarge } from './ads.js';
import { el, playQuietly, quote, ui } from './dom.js';
import { ads, call, kiosk, roomLink, tiles } from './state.js';

const CAPTION_LINES = 2;        // lines kept under each tile; the older one fades
const CAPTION_STALE_MS = 9000;  // dim captions after a silence

export function createTile(name, { local = false } = {}) {
  const root = el('figure', 'tile' + (local ? ' tile-local' : ''));
  const frame = el('div', 'frame');
  const avatar = el('div', 'avatar', initials(name));
  const tag = el('figcaption', 'nametag');
  const tagName = el('span', 'nametag-name', name);
  tag.append(tagName);
  if (local) tag.append(el('span', 'nametag-you', 'you'));
  const flash = el('div', 'flash');
  const onAir = el('div', 'onair', local ? 'Your ad is showing to the others' : '');
  frame.append(avatar, tag, flash, onAir);
  const captions = el('div', 'captions');
  captions.setAttribute('aria-live', 'polite');
  root.append(frame, captions);
  const tile = {
    name, local, root, frame, avatar, flash, captionsEl: captions,
    stream: null, video: null, videoQueued: false,
    caption: { lines: [], partial: '' }, staleTimer: 0, flashTimer: 0,
    setName(n) {
      tile.name = n;
      tagName.textContent = n;
      avatar.textContent = initials(n);
    },
  };
  return tile;
}

function initials(name) {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return parts.slice(0, 2).map((p) => Array.from(p)[0].toUpperCase()).join('') || '?';
}

export function attachLocalVideo(tile, stream) {
  const video = el('video', 'video video-local');
  video.id = 'local';
  video.muted = true;          // never play our own microphone back
  video.autoplay = true;
  video.playsInline = true;
  video.setAttribute('playsinline', '');
  video.srcObject = stream;
  tile.video = video;
  tile.stream = stream;
  tile.frame.prepend(video);
  playQuietly(video);
}

export function ensureRemoteTile(name) {
  let tile = tiles.get(name);
  if (tile) return tile;
  tile = createTile(name);
  tile.stream = new MediaStream();
  tiles.set(name, tile);
  ui.tiles.append(tile.root);
  updateLayout();
  return tile;
}

// The <video> is created once, when the first track is in the stream, and its srcObject is set
// once. Creation waits one task so the audio and video tracks from the same negotiation are both
// in the stream before it is attached (some browsers ignore tracks added to a live srcObject).
export function ensureRemoteVideo(tile) {
  if (tile.video || tile.videoQueued) return;
  tile.videoQueued = true;
  setTimeout(() => {
    if (tiles.get(tile.name) !== tile) return;  // left meanwhile
    const video = el('video', 'video');
    video.dataset.participant = tile.name;
    video.autoplay = true;
    video.playsInline = true;
    video.setAttribute('playsinline', '');
    // Not muted: the participant's audio plays through this element.
    video.srcObject = tile.stream;
    tile.video = video;
    tile.frame.prepend(video);
    tile.root.classList.add('has-video');
    playQuietly(video);
    if (ads.has(tile.name)) enlarge(tile);  // an ad may have started before the media arrived
  }, 0);
}

export function removeRemoteTile(name) {
  const tile = tiles.get(name);
  if (!tile) return;
  endAd(name);
  tiles.delete(name);
  clearTimeout(tile.staleTimer);
  clearTimeout(tile.flashTimer);
  if (tile.video) {
    tile.video.pause();
    tile.video.srcObject = null;
  }
  tile.root.remove();
  updateLayout();
}

// ---------------------------------------------------------------- layout

// Grid sizing hint: CSS picks columns from the tile count.
export function updateLayout() {
  const count = tiles.size + (call.localTile ? 1 : 0);
  ui.call.dataset.count = String(Math.min(count, 9));
  ui.tiles.classList.toggle('alone', tiles.size === 0);
  ensureWaitingCard();
}

// While alone, show how to invite people instead of an empty grid.
function ensureWaitingCard() {
  let card = ui.tiles.querySelector('.waiting');
  const want = (Boolean(call.localTile) || kiosk) && tiles.size === 0;
  if (!want) { if (card) card.remove(); return; }
  if (card) return;
  card = el('div', 'waiting');
  if (kiosk) {
    card.append(el('p', 'waiting-title', 'The next call starts in a moment'));
    ui.tiles.append(card);
    return;
  }
  card.append(
    el('p', 'waiting-title', 'Waiting for others to join'),
    el('p', 'waiting-text', 'Share this address:'),
    el('code', 'waiting-url', roomLink()),
  );
  ui.tiles.append(card);
}

export function showPhrases(phrases) {
  ui.phrases.textContent = '';
  if (!phrases.length) {
    ui.phrases.append(el('span', 'muted', 'No trigger phrases are active in this room.'));
    return;
  }
  ui.phrases.append('Say ');
  phrases.forEach((p, i) => {
    if (i > 0) ui.phrases.append(i === phrases.length - 1 ? ' or ' : ', ');
    ui.phrases.append(el('span', 'phrase', quote(p)));
  });
  ui.phrases.append(' to see the ad');
}

// ---------------------------------------------------------------- captions

export function showTranscript(tile, ev) {
  const cap = tile.caption;
  const text = (ev.text || '').trim();
  if (ev.final) {
    // A final ends the current line; keep only what is displayed.
    const line = text || cap.partial;
    if (line) cap.lines = cap.lines.concat(line).slice(-CAPTION_LINES);
    cap.partial = '';
  } else {
    cap.partial = text;
  }
  renderCaptions(tile);
}

function renderCaptions(tile) {
  const { lines, partial } = tile.caption;
  const shown = (partial ? lines.concat(partial) : lines).slice(-CAPTION_LINES);
  const nodes = shown.map((text, i) => {
    const isLast = i === shown.length - 1;
    const cls = 'cap' + (isLast ? '' : ' cap-old') + (isLast && partial ? ' cap-partial' : '');
    return el('p', cls, text);
  });
  tile.captionsEl.replaceChildren(...nodes);
  tile.captionsEl.classList.remove('stale');
  clearTimeout(tile.staleTimer);
  tile.staleTimer = setTimeout(() => tile.captionsEl.classList.add('stale'), CAPTION_STALE_MS);
}
