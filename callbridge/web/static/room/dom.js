// The room page's elements and small DOM helpers: building nodes, the connection badge,
// the status line, toasts, and playing a <video> whatever the autoplay policy decides.

import { kiosk } from './state.js';

const $ = (id) => document.getElementById(id);

export const ui = {
  roomName: $('room-name'), conn: $('conn'), connText: $('conn-text'), status: $('status'),
  joinPanel: $('join-panel'), name: $('name'), consent: $('consent'), join: $('join'),
  joinPhrases: $('join-phrases'), call: $('call'), phrases: $('phrases'), tiles: $('tiles'),
  consentLive: $('consent-live'), leave: $('leave'), toasts: $('toasts'),
  rec: $('rec'), recordSwitch: $('record-switch'), recordLive: $('record-live'),
  adBanner: $('ad-banner'), adLabel: $('ad-label'), adWho: $('ad-who'), adTitle: $('ad-title'),
  adTagline: $('ad-tagline'), adNote: $('ad-note'), adBar: $('ad-progress-bar'),
};

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

export function quote(s) { return '\u201c' + s + '\u201d'; }

export function listPhrases(phrases) {
  const q = phrases.map(quote);
  if (q.length <= 1) return q.join('');
  return q.slice(0, -1).join(', ') + ' or ' + q[q.length - 1];
}

export function setConn(state, text) {
  ui.conn.dataset.state = state;
  ui.connText.textContent = text;
}

export function showStatus(message, kind = 'error') {
  ui.status.textContent = message;
  ui.status.dataset.kind = kind;
  ui.status.hidden = false;
}

export function clearStatus() {
  ui.status.hidden = true;
  ui.status.textContent = '';
}

export function toast(text) {
  const t = el('div', 'toast', text);
  ui.toasts.append(t);
  setTimeout(() => t.classList.add('out'), 3200);
  setTimeout(() => t.remove(), 3800);
}

// Autoplay can be refused (no user gesture, tab in background); the call still works, so ignore.
export function playQuietly(video) {
  const p = video.play();
  if (p && p.catch) p.catch(() => { if (kiosk) playMuted(video); });
}

// A kiosk has no one to click "allow sound": show the pictures muted rather than nothing,
// and bring the sound back at the first touch (or launch Chromium with
// --autoplay-policy=no-user-gesture-required).
function playMuted(video) {
  video.muted = true;
  video.play().catch(() => {});
  document.addEventListener('pointerdown', () => { video.muted = false; }, { once: true });
}
