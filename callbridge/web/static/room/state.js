// What this page is (which room; a person's page or a kiosk) and the call it is in now:
// the current join, the tiles on screen and the ads playing. The modules share this state.

export const room = roomFromPath();
// /kiosk/ROOM: a gallery screen. It joins by itself as a watcher (no camera, no microphone,
// no controls, no cursor), shows everyone fullscreen and rejoins by itself after any drop.
export const kiosk = location.pathname.startsWith('/kiosk/');
export const rawAudio = new URLSearchParams(location.search).get('raw') === '1';
// The room key from the link (?key=...): a server reachable beyond loopback admits a websocket only with it.
export const roomKey = new URLSearchParams(location.search).get('key') || '';

// The link to this room as others should open it: with its key, if it has one.
export function roomLink() {
  return location.origin + '/room/' + encodeURIComponent(room) + (roomKey ? '?key=' + encodeURIComponent(roomKey) : '');
}

export const call = {
  session: null,    // the current join; null when not in a call
  localTile: null,  // own tile (captions about ourselves go here)
  maxAdMs: 20000,   // the server's longest ad; "welcome" carries the real value
};
export const tiles = new Map();  // remote participant name -> tile
export const ads = new Map();    // participant -> {event, timer} for ads on screen now

function roomFromPath() {
  const m = location.pathname.match(/^\/(?:room|kiosk)\/([^/]+)\/?$/);
  return m ? decodeURIComponent(m[1]) : 'demo';
}

export function tileFor(participant) {
  if (call.session && participant === call.session.name) return call.localTile;
  return tiles.get(participant) || null;
}
