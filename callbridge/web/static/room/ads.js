// Ads on screen: the speaker's tile enlarged in place while their ad plays, the banner that
// labels it, and a failsafe that brings live video back even if "ad-end" is lost.

import { playQuietly, ui } from './dom.js';
import { ads, call, tileFor } from './state.js';

const AD_FAILSAFE_SLACK_MS = 5000;  // restore live video this long after an ad's longest length, even if ad-end is lost

export function startAd(ev) {
  const name = ev.participant;
  const prev = ads.get(name);
  if (prev) clearTimeout(prev.timer);
  const durationMs = Number(ev.duration_s) > 0 ? Number(ev.duration_s) * 1000 : 0;
  const failsafe = Math.max(call.maxAdMs, durationMs) + AD_FAILSAFE_SLACK_MS;
  ads.set(name, { event: ev, timer: setTimeout(() => endAd(name), failsafe) });
  const tile = tileFor(name);
  if (tile) enlarge(tile);
  showBanner(ev);
}

export function endAd(name) {
  const ad = ads.get(name);
  if (!ad) return;
  clearTimeout(ad.timer);
  ads.delete(name);
  const tile = tileFor(name);
  if (tile) shrink(tile);
  // Another participant's ad may still be running: show its banner, else hide.
  const others = Array.from(ads.values());
  if (others.length) showBanner(others[others.length - 1].event);
  else hideBanner();
}

// Enlarge in place with CSS (a class on the element itself): moving a playing <video> to
// another parent can pause it, and the ad frames arrive in this very element's track.
export function enlarge(tile) {
  tile.root.classList.add('ad-host');
  if (tile.local) return;  // our own ad is seen by the others, not in our camera preview
  if (tile.video) tile.video.classList.add('ad-fullscreen');
  document.body.classList.add('ad-playing');
}

function shrink(tile) {
  tile.root.classList.remove('ad-host');
  if (tile.video) {
    tile.video.classList.remove('ad-fullscreen');
    if (!tile.local) playQuietly(tile.video);  // in case the layout change paused it
  }
  const stillFullscreen = Array.from(ads.keys()).some((n) => !(call.session && n === call.session.name));
  if (!stillFullscreen) document.body.classList.remove('ad-playing');
}

// ---------------------------------------------------------------- the banner

function showBanner(ev) {
  const self = Boolean(call.session && ev.participant === call.session.name);
  const personalised = ev.personalised !== false;
  ui.adLabel.textContent = personalised ? 'sponsored · AI-generated' : 'sponsored';
  ui.adWho.textContent = self ? 'in your video, for the others' : 'in ' + ev.participant + '\u2019s video';
  ui.adTitle.textContent = ev.title || '';
  ui.adTitle.hidden = !ev.title;
  ui.adTagline.textContent = ev.tagline || '';
  ui.adTagline.hidden = !ev.tagline;
  ui.adNote.textContent = adNote(ev, self, personalised);
  ui.adBanner.classList.toggle('ad-self', self);
  ui.adBanner.classList.toggle('ad-plain', !personalised);
  ui.adBanner.hidden = false;  // visible first: a transition cannot start on a display:none bar
  restartProgress(Number(ev.duration_s));
}

function adNote(ev, self, personalised) {
  const who = self ? 'your' : ev.participant + '\u2019s';
  if (!personalised) return 'A standard ad: no one\u2019s face is used. The call returns in a moment.';
  return 'This ad was made by AI from ' + who + ' face, with consent, for this call only. '
    + 'Nothing is stored.';
}

function restartProgress(seconds) {
  const bar = ui.adBar;
  bar.style.transition = 'none';
  bar.style.width = '0%';
  bar.parentElement.hidden = !(seconds > 0);
  if (!(seconds > 0)) return;
  void bar.offsetWidth;  // commit the reset before animating
  bar.style.transition = 'width ' + seconds + 's linear';
  bar.style.width = '100%';
}

export function hideBanner() {
  ui.adBanner.hidden = true;
  ui.adBanner.classList.remove('ad-self', 'ad-plain');
}
