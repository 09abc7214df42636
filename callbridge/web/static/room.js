// callbridge room page: join panel, one RTCPeerConnection to the relay, tiles, captions, ads.
// Plain ES2020, no build step, no external resources (exhibition machines are offline).
// Protocol: see the project's signalling notes (join / welcome / offer / answer / event / error).
'use strict';

// Set synchronously at script start: tests and exhibit tooling read it from page load on.
window.callbridge = { events: [] };

(() => {
  const ICE_GATHER_TIMEOUT_MS = 3000;  // never hang on ICE: send what we have after 3 s
  const CAPTION_LINES = 2;             // lines kept under each tile; the older one fades
  const CAPTION_STALE_MS = 9000;       // dim captions after a silence
  const TRIGGER_FLASH_MS = 2600;
  const AD_FAILSAFE_SLACK_MS = 5000;   // restore live video this long after an ad's longest length, even if ad-end is lost
  const KIOSK_RETRY_MS = [1000, 2000, 5000, 10000];  // a kiosk rejoins after a drop, backing off to 10 s
  const KIOSK_STALL_MS = 5000;         // media "disconnected" this long: rejoin rather than wait for "failed"
  let maxAdMs = 20000;                 // the server's longest ad; "welcome" carries the real value

  const $ = (id) => document.getElementById(id);
  const ui = {
    roomName: $('room-name'), conn: $('conn'), connText: $('conn-text'), status: $('status'),
    joinPanel: $('join-panel'), name: $('name'), consent: $('consent'), join: $('join'),
    joinPhrases: $('join-phrases'), call: $('call'), phrases: $('phrases'), tiles: $('tiles'),
    consentLive: $('consent-live'), leave: $('leave'), toasts: $('toasts'),
    rec: $('rec'), recordSwitch: $('record-switch'), recordLive: $('record-live'),
    adBanner: $('ad-banner'), adLabel: $('ad-label'), adWho: $('ad-who'), adTitle: $('ad-title'),
    adTagline: $('ad-tagline'), adNote: $('ad-note'), adBar: $('ad-progress-bar'),
  };

  const room = roomFromPath();
  // /kiosk/ROOM: a gallery screen. It joins by itself as a watcher (no camera, no microphone,
  // no controls, no cursor), shows everyone fullscreen and rejoins by itself after any drop.
  const kiosk = location.pathname.startsWith('/kiosk/');
  let kioskTries = 0;
  const rawAudio = new URLSearchParams(location.search).get('raw') === '1';

  let session = null;           // the current join; null when not in a call
  const tiles = new Map();      // remote participant name -> tile
  let localTile = null;         // own tile (captions about ourselves go here)
  const ads = new Map();        // participant -> {event, timer} for ads on screen now

  // ---------------------------------------------------------------- small helpers

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function roomFromPath() {
    const m = location.pathname.match(/^\/(?:room|kiosk)\/([^/]+)\/?$/);
    return m ? decodeURIComponent(m[1]) : 'demo';
  }

  function quote(s) { return '\u201c' + s + '\u201d'; }

  function listPhrases(phrases) {
    const q = phrases.map(quote);
    if (q.length <= 1) return q.join('');
    return q.slice(0, -1).join(', ') + ' or ' + q[q.length - 1];
  }

  function setConn(state, text) {
    ui.conn.dataset.state = state;
    ui.connText.textContent = text;
  }

  function showStatus(message, kind = 'error') {
    ui.status.textContent = message;
    ui.status.dataset.kind = kind;
    ui.status.hidden = false;
  }

  function clearStatus() {
    ui.status.hidden = true;
    ui.status.textContent = '';
  }

  function toast(text) {
    const t = el('div', 'toast', text);
    ui.toasts.append(t);
    setTimeout(() => t.classList.add('out'), 3200);
    setTimeout(() => t.remove(), 3800);
  }

  // Autoplay can be refused (no user gesture, tab in background); the call still works, so ignore.
  function playQuietly(video) {
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

  // ---------------------------------------------------------------- start-up

  function init() {
    if (kiosk) { startKiosk(); return; }
    ui.roomName.textContent = room;
    document.title = 'callbridge · ' + room;
    ui.join.addEventListener('click', onJoinClick);
    ui.name.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') onJoinClick(); });
    ui.leave.addEventListener('click', leave);
    ui.consentLive.addEventListener('change', onConsentToggle);
    ui.recordLive.addEventListener('change', onRecordToggle);
    window.addEventListener('pagehide', () => { if (session) leave(); });
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
      if (!phrases.length || session) return;
      ui.joinPhrases.textContent = 'In this room, saying ' + listPhrases(phrases) + ' starts an ad.';
      ui.joinPhrases.hidden = false;
    } catch (_) { /* offline or not served: the page works without it */ }
  }

  // ---------------------------------------------------------------- joining

  async function onJoinClick() {
    if (session) return;
    const name = ui.name.value;
    if (!name.trim()) {
      showStatus('Please type your name first.');
      ui.name.focus();
      return;
    }
    clearStatus();
    const s = newSession(name, ui.consent.checked);
    session = s;
    ui.join.disabled = true;
    setConn('busy', 'Starting camera…');
    try {
      s.localStream = await navigator.mediaDevices.getUserMedia(mediaConstraints());
    } catch (err) {
      if (session === s) endSession(s, describeMediaError(err));
      return;
    }
    if (session !== s) { stopStream(s.localStream); return; }  // left while the prompt was open
    enterCallUi(s);
    openSocket(s);
  }

  function startKiosk() {
    document.body.classList.add('kiosk');
    document.title = 'callbridge · ' + room;
    ui.joinPanel.hidden = true;
    const s = newSession('', false);
    s.watch = true;
    session = s;
    enterCallUi(s);
    openSocket(s);
  }

  // After a drop: rejoin, sooner at first, then every 10 s for as long as it takes.
  function retryKiosk() {
    const wait = KIOSK_RETRY_MS[Math.min(kioskTries, KIOSK_RETRY_MS.length - 1)];
    kioskTries += 1;
    setTimeout(() => { if (!session) startKiosk(); }, wait);
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
      localTile = createTile(s.name, { local: true });
      attachLocalVideo(localTile, s.localStream);
      ui.tiles.prepend(localTile.root);
    }
    updateLayout();
  }

  // ---------------------------------------------------------------- websocket

  function openSocket(s) {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(scheme + '://' + location.host + '/ws/' + encodeURIComponent(room));
    s.ws = ws;
    setConn('busy', 'Connecting…');
    ws.addEventListener('open', () => {
      send(s, s.watch ? { type: 'join', watch: true } : { type: 'join', name: s.name, consent: s.consent });
    });
    ws.addEventListener('message', (ev) => onSocketMessage(s, ev));
    ws.addEventListener('error', () => {
      if (session === s) endSession(s, 'Lost the connection to the server.');
    });
    ws.addEventListener('close', () => {
      if (session !== s) return;
      endSession(s, s.welcomed ? 'The server closed the connection.' : 'Could not join this room.');
    });
  }

  function send(s, msg) {
    if (s.ws && s.ws.readyState === WebSocket.OPEN) s.ws.send(JSON.stringify(msg));
  }

  function onSocketMessage(s, ev) {
    if (session !== s) return;
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
          .then(() => (session === s ? handleSignal(s, msg) : null))
          .catch((err) => {
            if (session !== s) return;
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
    if (msg.max_ad_s > 0) maxAdMs = msg.max_ad_s * 1000;
    if (localTile) localTile.setName(s.name);
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
    if (session !== s) return;
    send(s, { type: 'offer', sdp: s.pc.localDescription.sdp });
  }

  function createPeer(s) {
    // No STUN/TURN: the relay is reached directly (and on loopback in tests).
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle' });
    s.pc = pc;
    pc.addEventListener('track', (ev) => { if (session === s) onTrack(s, ev); });
    pc.addEventListener('connectionstatechange', () => {
      if (session !== s) return;
      const state = pc.connectionState;
      if (kiosk) watchKioskMedia(s, state);
      if (state === 'connected') setConn('live', 'Live');
      else if (state === 'connecting' || state === 'new') setConn('busy', 'Joined · connecting media…');
      else if (state === 'disconnected') setConn('warn', 'Media interrupted…');
      else if (state === 'failed') {
        setConn('error', 'Media connection failed');
        showStatus('The audio/video connection to the server failed. Leave and join again.');
      }
    });
  }

  function watchKioskMedia(s, state) {
    clearTimeout(s.stallTimer);
    if (state === 'connected') kioskTries = 0;
    else if (state === 'failed') endSession(s, 'media failed');
    else if (state === 'disconnected') s.stallTimer = setTimeout(() => endSession(s, 'media stalled'), KIOSK_STALL_MS);
  }

  async function handleServerOffer(s, msg) {
    // ontrack fires inside setRemoteDescription, so the mid map must be in place before it.
    s.tracks = msg.tracks || {};
    await s.pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
    await s.pc.setLocalDescription(await s.pc.createAnswer());
    await iceGatheringComplete(s.pc);
    if (session !== s) return;
    send(s, { type: 'answer', sdp: s.pc.localDescription.sdp });
    adoptOrphans(s);
  }

  function iceGatheringComplete(pc) {
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

  function onTrack(s, ev) {
    const mid = ev.transceiver && ev.transceiver.mid;
    const info = mid != null ? s.tracks[mid] : null;
    if (!info || !info.participant) {
      s.orphans.set(mid, ev.track);  // mapped by a later offer, hopefully
      return;
    }
    attachRemoteTrack(s, info.participant, ev.track);
  }

  // Tracks whose mid was unknown when they arrived get attached once an offer maps them.
  function adoptOrphans(s) {
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

  // ---------------------------------------------------------------- tiles

  function createTile(name, { local = false } = {}) {
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

  function attachLocalVideo(tile, stream) {
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

  function ensureRemoteTile(name) {
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
  function ensureRemoteVideo(tile) {
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

  function removeRemoteTile(name) {
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

  function tileFor(participant) {
    if (session && participant === session.name) return localTile;
    return tiles.get(participant) || null;
  }

  // Grid sizing hint: CSS picks columns from the tile count.
  function updateLayout() {
    const count = tiles.size + (localTile ? 1 : 0);
    ui.call.dataset.count = String(Math.min(count, 9));
    ui.tiles.classList.toggle('alone', tiles.size === 0);
    ensureWaitingCard();
  }

  // While alone, show how to invite people instead of an empty grid.
  function ensureWaitingCard() {
    let card = ui.tiles.querySelector('.waiting');
    const want = (Boolean(localTile) || kiosk) && tiles.size === 0;
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
      el('code', 'waiting-url', location.origin + '/room/' + room),
    );
    ui.tiles.append(card);
  }

  function showPhrases(phrases) {
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

  // ---------------------------------------------------------------- events

  function renderEvent(s, ev) {
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

  // ---------------------------------------------------------------- ads

  function startAd(ev) {
    const name = ev.participant;
    const prev = ads.get(name);
    if (prev) clearTimeout(prev.timer);
    const durationMs = Number(ev.duration_s) > 0 ? Number(ev.duration_s) * 1000 : 0;
    const failsafe = Math.max(maxAdMs, durationMs) + AD_FAILSAFE_SLACK_MS;
    ads.set(name, { event: ev, timer: setTimeout(() => endAd(name), failsafe) });
    const tile = tileFor(name);
    if (tile) enlarge(tile);
    showBanner(ev);
  }

  function endAd(name) {
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
  function enlarge(tile) {
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
    const stillFullscreen = Array.from(ads.keys()).some((n) => !(session && n === session.name));
    if (!stillFullscreen) document.body.classList.remove('ad-playing');
  }

  function showBanner(ev) {
    const self = Boolean(session && ev.participant === session.name);
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

  function hideBanner() {
    ui.adBanner.hidden = true;
    ui.adBanner.classList.remove('ad-self', 'ad-plain');
  }

  // ---------------------------------------------------------------- consent, leaving

  function onRecordToggle() {
    if (!session) return;
    send(session, { type: 'record', agree: ui.recordLive.checked });
    toast(ui.recordLive.checked ? 'You agree to recording: it starts once everyone in the room agrees'
      : 'You no longer agree: any recording of this call stops now');
  }

  function onRecording(ev) {
    showRecording(!!ev.on);
    if (ev.reason) toast(ev.reason);
    else toast(ev.on ? 'This call is now being recorded' : 'Recording stopped');
  }

  function showRecording(on) {
    ui.rec.hidden = !on;
  }

  function onConsentToggle() {
    if (!session) return;
    session.consent = ui.consentLive.checked;
    send(session, { type: 'consent', consent: session.consent });
    toast(session.consent ? 'Your face may now be used in ads in this call'
      : 'Your face will no longer be used in ads');
  }

  function leave() {
    const s = session;
    if (!s) return;
    send(s, { type: 'leave' });
    endSession(s, null);
    setConn('idle', 'Left the call');
  }

  // Tear everything down for this join; the page can join again afterwards.
  function endSession(s, message) {
    if (session !== s) return;
    session = null;
    if (s.pc) s.pc.close();
    if (s.ws && s.ws.readyState <= WebSocket.OPEN) s.ws.close();
    stopStream(s.localStream);
    for (const name of Array.from(ads.keys())) endAd(name);
    for (const name of Array.from(tiles.keys())) removeRemoteTile(name);
    showRecording(false);
    if (localTile) {
      clearTimeout(localTile.staleTimer);
      if (localTile.video) localTile.video.srcObject = null;
      localTile.root.remove();
      localTile = null;
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

  // Deferred script: the DOM is parsed. Wire up now so #join works by the load event.
  init();
})();
