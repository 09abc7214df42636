// The preview on a ready template card: the person chooses a photo, the server renders a short
// labelled ad with that face (POST /api/templates/{name}/preview), and it plays in the card.

import { api, describe, errorFrom, quiet, templatePath } from './api.js';
import { el, playQuietly, setMessage } from './ui.js';

export function previewBox(card) {
  const box = el('div', 'preview');
  const id = card.id + '-photo';
  const label = el('label', 'field-label', 'Preview with a photo');
  label.htmlFor = id;
  const input = el('input', 'preview-photo');
  input.type = 'file';
  input.accept = 'image/*';
  input.id = id;
  const help = el('p', 'hint', 'Choose a photo of a face to see what an ad made from this clip looks like.');
  help.id = id + '-help';
  input.setAttribute('aria-describedby', help.id);
  const status = el('p', 'preview-status');
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  status.hidden = true;
  const figure = el('figure', 'preview-figure');
  figure.hidden = true;
  box.append(label, input, help, status, figure);
  input.addEventListener('change', () => renderPreview(card));
  return { box, input, status, figure, url: null, discarded: false };
}

// When its card goes (template deleted, sign-out): free the video, and drop a render still on its way.
export function discardPreview(card) {
  const p = card.preview;
  if (p.url) URL.revokeObjectURL(p.url);
  p.url = null;
  p.discarded = true;
}

async function renderPreview(card) {
  const p = card.preview;
  const file = p.input.files && p.input.files[0];
  if (!file) return;
  if (file.type && !file.type.startsWith('image/')) {
    setPreviewStatus(p, 'That file is not a picture. Choose a photo (JPEG, PNG, WebP\u2026).', 'error');
    p.input.value = '';
    return;
  }
  const body = new FormData();
  body.append('photo', file);
  p.input.disabled = true;
  setPreviewStatus(p, 'Rendering\u2026 this can take a little while.', 'busy');
  try {
    const res = await api('POST', templatePath(card.name) + '/preview', { body });
    if (!res.ok) throw await errorFrom(res);
    const blob = await res.blob();
    if (p.discarded) return;  // deleted while rendering
    showPreviewVideo(p, blob);
    setPreviewStatus(p, '');
  } catch (err) {
    if (!quiet(err)) setPreviewStatus(p, 'No preview: ' + describe(err), 'error');
  } finally {
    p.input.disabled = false;
    p.input.value = '';  // choosing the same photo again renders again
  }
}

function setPreviewStatus(p, text, kind) {
  setMessage(p.status, text, kind);
  p.status.classList.toggle('is-busy', kind === 'busy');
}

function showPreviewVideo(p, blob) {
  if (p.url) URL.revokeObjectURL(p.url);
  p.url = URL.createObjectURL(blob.type ? blob : new Blob([blob], { type: 'video/webm' }));
  let video = p.figure.querySelector('video.preview-video');
  if (!video) {
    video = previewVideo();
    const caption = el('figcaption', 'preview-caption');
    caption.append('Preview. Like every ad, it carries the label ',
      el('span', 'ad-chip', 'sponsored \u00b7 AI-generated'), '.');
    p.figure.append(video, caption);
  }
  video.src = p.url;
  p.figure.hidden = false;
  playQuietly(video);
}

function previewVideo() {
  const video = el('video', 'preview-video');
  video.controls = true;
  video.autoplay = true;
  video.muted = true;  // muted autoplay is allowed without a click
  video.loop = true;
  video.playsInline = true;
  for (const attr of ['muted', 'playsinline', 'loop', 'autoplay', 'controls']) video.setAttribute(attr, '');
  return video;
}
