// RTCPeerConnection helpers: waiting (not forever) for ICE gathering, and putting the relay's
// tracks into the right person's tile by the mid map of the server's latest offer.

import { playQuietly } from './dom.js';
import { ensureRemoteTile, ensureRemoteVideo } from './tiles.js';

const ICE_GATHER_TIMEOUT_MS = 3000;  // never hang on ICE: send what we have after 3 s

export function iceGatheringComplete(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => { if (pc.iceGatheringState === 'complete') done(); };
    const timer = setTimeout(done, ICE_GATHER_TIMEOUT_MS);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

export function onTrack(s, ev) {
  const mid = ev.transceiver && ev.transceiver.mid;
  const info = mid != null ? s.tracks[mid] : null;
  if (!info || !info.participant) {
    s.orphans.set(mid, ev.track);  // mapped by a later offer, hopefully
    return;
  }
  attachRemoteTrack(s, info.participant, ev.track);
}

// Tracks whose mid was unknown when they arrived get attached once an offer maps them.
export function adoptOrphans(s) {
  for (const [mid, track] of s.orphans) {
    const info = s.tracks[mid];
    if (info && info.participant) {
      s.orphans.delete(mid);
      attachRemoteTrack(s, info.participant, track);
    }
  }
}

function attachRemoteTrack(s, participant, track) {
  if (participant === s.name) return;  // the relay never sends us ourselves; be safe anyway
  const tile = ensureRemoteTile(participant);
  // One stream per participant for the whole stay: add each kind once, never replace.
  if (tile.stream.getTracks().some((t) => t.kind === track.kind)) return;
  tile.stream.addTrack(track);
  if (tile.video) {
    // A track added to a stream already playing is not picked up by every browser:
    // assigning the same stream again rebuilds the element's renderer with all its tracks.
    tile.video.srcObject = tile.stream;
    playQuietly(tile.video);
  }
  ensureRemoteVideo(tile);
}
