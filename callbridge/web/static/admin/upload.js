// The "Upload a new template" form: checks first what the server would refuse, sends the clip
// with a progress bar, then hands the new template to the ingest poll (campaign.js). The end of
// an ingest is announced here, under the form, for templates uploaded from this page.

import { authHeader, errorFromText, sessionGeneration, tokenRefused } from './api.js';
import { pollTemplate, render, scheduleRefresh, upsertTemplate } from './campaign.js';
import { MAX_TEMPLATE_S } from './template-settings.js';
import { cardFor, hasCard } from './templates.js';
import { $, formatMB, quote, setMessage, toast } from './ui.js';

const MAX_UPLOAD_BYTES = 200 * 1000 * 1000;  // the server's cap (decimal MB); refusing early saves a long upload
const TEMPLATE_NAME = /^[a-z0-9-]{1,40}$/;

const ui = {
  form: $('upload-form'), name: $('upload-name'), title: $('upload-title'), tagline: $('upload-tagline'),
  licence: $('upload-licence'), max: $('upload-max'), fallback: $('upload-fallback'), file: $('upload-file'),
  submit: $('upload-submit'), progress: $('upload-progress'), bar: $('upload-bar'),
  progressText: $('upload-progress-text'), status: $('upload-status'), error: $('upload-error'),
  phraseTemplate: $('phrase-template'),
};

let upload = null;               // the XMLHttpRequest of an upload in progress
const uploadedHere = new Set();  // templates uploaded from this page: their outcome goes under the form

export function initUpload() {
  ui.form.addEventListener('submit', onUploadSubmit);
  ui.form.addEventListener('input', () => setMessage(ui.error, ''));
}

// At sign-out: stop a running upload and forget what this page uploaded.
export function resetUpload() {
  if (upload) upload.abort();
  upload = null;
  ui.form.reset();
  endUpload(null);
  uploadedHere.clear();
  setMessage(ui.error, '');
  setMessage(ui.status, '');
}

// ---------------------------------------------------------------- the form

// Checks what the server would refuse anyway, so the person is told before a long upload.
// Returns {field, problem} or {name, file, max}.
function readUploadForm() {
  const name = ui.name.value.trim();
  const file = ui.file.files && ui.file.files[0];
  const max = Number(ui.max.value);
  if (!TEMPLATE_NAME.test(name)) {
    const suggestion = name.toLowerCase().replace(/[\s_]+/g, '-');
    return { field: ui.name, problem: 'The name uses only lowercase letters a\u2013z, digits and hyphens (-), '
      + '1 to 40 of them.' + (TEMPLATE_NAME.test(suggestion) ? ' For example: ' + suggestion : '') };
  }
  if (hasCard(name)) {
    return { field: ui.name, problem: 'There is already a template called ' + quote(name) + '. Choose another name.' };
  }
  if (!ui.licence.value.trim()) {
    return { field: ui.licence, problem: 'Note the licence and where the actor\u2019s release is kept: '
      + 'their face is in every ad made from this clip.' };
  }
  if (ui.max.value.trim() === '' || !(max >= 1 && max <= MAX_TEMPLATE_S)) {
    return { field: ui.max, problem: 'The longest ad is between 1 and 30 seconds.' };
  }
  if (!file) return { field: ui.file, problem: 'Choose the video file.' };
  if (file.size > MAX_UPLOAD_BYTES) {
    return { field: ui.file, problem: 'This file is ' + formatMB(file.size) + '; 200 MB at most.' };
  }
  return { name, file, max };
}

function onUploadSubmit(ev) {
  ev.preventDefault();
  if (upload) return;
  setMessage(ui.error, '');
  setMessage(ui.status, '');
  const form = readUploadForm();
  if (form.problem) {
    setMessage(ui.error, form.problem);
    form.field.focus();
    return;
  }
  // Field order matters to the server: the name first (checked before the file is read), the file last.
  const body = new FormData();
  body.append('name', form.name);
  body.append('title', ui.title.value.trim());
  body.append('tagline', ui.tagline.value.trim());
  body.append('licence', ui.licence.value.trim());
  body.append('max_duration_s', String(form.max));
  body.append('fallback', ui.fallback.value);
  body.append('file', form.file);
  sendUpload(form.name, body);
}

// ---------------------------------------------------------------- sending

// XMLHttpRequest rather than fetch: only it reports how many bytes have been sent.
function sendUpload(name, body) {
  const xhr = new XMLHttpRequest();
  const gen = sessionGeneration();
  const current = () => gen === sessionGeneration();  // answers for an ended session are dropped
  upload = xhr;
  xhr.open('POST', '/api/templates');
  xhr.setRequestHeader('Authorization', authHeader());
  xhr.responseType = 'text';
  xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) showUploadProgress(e.loaded, e.total); });
  xhr.upload.addEventListener('load', () => {
    ui.progressText.textContent = 'Sent. The server is checking the file\u2026';
  });
  xhr.addEventListener('load', () => { if (current()) onUploadAnswer(name, xhr); });
  xhr.addEventListener('error', () => {
    if (current()) endUpload('The upload stopped: the server could not be reached. Try again.');
  });
  xhr.addEventListener('abort', () => { if (current()) endUpload('The upload was cancelled.'); });
  ui.submit.disabled = true;
  ui.submit.textContent = 'Uploading\u2026';
  showUploadProgress(0, body.get('file').size || 1);
  ui.progress.hidden = false;
  xhr.send(body);
}

function showUploadProgress(loaded, total) {
  ui.bar.value = total ? loaded / total : 0;
  const pct = total ? Math.round((loaded / total) * 100) : 0;
  ui.progressText.textContent = 'Uploading\u2026 ' + formatMB(loaded) + ' of ' + formatMB(total) + ' (' + pct + ' %)';
}

function endUpload(error) {
  upload = null;
  ui.submit.disabled = false;
  ui.submit.textContent = 'Upload';
  ui.progress.hidden = true;
  if (error) setMessage(ui.error, error);
}

function onUploadAnswer(name, xhr) {
  if (xhr.status === 401) {
    upload = null;
    tokenRefused();
    return;
  }
  if (xhr.status < 200 || xhr.status >= 300) {
    endUpload(errorFromText(xhr.responseText, xhr.status, xhr.statusText).message);
    return;
  }
  let t = null;
  try { t = JSON.parse(xhr.responseText); } catch (_) { /* the poll fetches it */ }
  endUpload(null);
  ui.form.reset();
  uploadedHere.add(name);
  upsertTemplate(t && t.name ? t : { name, status: 'ingesting', progress: 0 });
  render();
  setMessage(ui.status, 'Uploaded ' + quote(name) + '. The server is now following the actor\u2019s face '
    + 'through every frame; see its card above.', 'ok');
  const card = cardFor(name);
  if (card) card.root.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  pollTemplate(name);
  scheduleRefresh();
}

// ---------------------------------------------------------------- the end of an ingest

// Said once per template, by its card (templates.js), whichever refresh sees the end first.
export function announceIngestEnd(t) {
  const mine = uploadedHere.has(t.name);
  if (t.status === 'ready') {
    toast('Template ' + quote(t.name) + ' is ready.');
    if (!ui.phraseTemplate.value) ui.phraseTemplate.value = t.name;
    if (mine) {
      setMessage(ui.status, quote(t.name) + ' is ready' + (t.verdict ? ': ' + t.verdict + '.' : '.')
        + ' Add a phrase that points at it to use it in calls.', 'ok');
    }
  } else if (t.status === 'failed') {
    toast('Template ' + quote(t.name) + ' could not be used.');
    if (!mine) return;
    setMessage(ui.status, '');
    setMessage(ui.error, quote(t.name) + ' could not be used: ' + (t.error || 'no reason given')
      + '. Delete it, then upload a better clip.');
  }
}
