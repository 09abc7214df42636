// The settings form on a template card: longest ad, what to show without consent, and (folded
// away) title, tagline and licence. Only the fields that changed are sent.

import { apiJson, describe, quiet, templatePath } from './api.js';
import { render, upsertTemplate } from './campaign.js';
import { el, option, setMessage } from './ui.js';

export const MAX_TEMPLATE_S = 30;

// The editable values of a template, with the server's defaults for fields it left out.
export function editable(t) {
  return {
    max_duration_s: Number.isFinite(Number(t.max_duration_s)) && t.max_duration_s != null ? Number(t.max_duration_s) : 8,
    fallback: t.fallback === 'none' ? 'none' : 'plain',
    title: t.title || '', tagline: t.tagline || '', licence: t.licence || '',
  };
}

export function settingsForm(card) {
  const form = el('form', 'tpl-settings');
  form.noValidate = true;
  const main = mainFields(card.id);
  const more = moreFields(card.id);
  const actions = el('div', 'tpl-settings-actions');
  const save = el('button', 'btn btn-quiet btn-small', 'Save changes');
  save.type = 'submit';
  save.disabled = true;
  const status = el('p', 'form-status');
  status.setAttribute('role', 'status');
  status.hidden = true;
  actions.append(save, status);
  form.append(main.row, more.box, actions);

  const fields = { ...main.fields, ...more.fields };
  form.addEventListener('input', () => markDirty(card));
  form.addEventListener('change', () => markDirty(card));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); saveTemplate(card); });
  return { form, fields, save, status, dirty: false };
}

function mainFields(id) {
  const row = el('div', 'tpl-settings-row');
  const max = formField(id + '-max', 'Longest ad (s)', 'input');
  Object.assign(max.input, { type: 'number', min: '1', max: String(MAX_TEMPLATE_S), step: '0.5' });
  max.input.inputMode = 'decimal';
  max.input.title = 'Between 1 and 30 seconds';
  const fallback = formField(id + '-fallback', 'Without consent', 'select');
  fallback.input.append(option('plain', 'Play the clip as it is'), option('none', 'Show no ad'));
  fallback.input.title = 'What happens when the person who said the phrase has not agreed to their face being used';
  row.append(max.wrap, fallback.wrap);
  return { row, fields: { max: max.input, fallback: fallback.input } };
}

function moreFields(id) {
  const box = el('details', 'tpl-more');
  box.append(el('summary', null, 'Title, tagline and licence'));
  const title = formField(id + '-edit-title', 'Title', 'input');
  const tagline = formField(id + '-edit-tagline', 'Tagline', 'input');
  const licence = formField(id + '-edit-licence', 'Licence and actor\u2019s release', 'input');
  // The server's limits (PATCH /api/templates/{name}): title 80, tagline 120, licence 400.
  for (const [f, limit] of [[title, 80], [tagline, 120], [licence, 400]]) {
    f.input.type = 'text';
    f.input.maxLength = limit;
    f.input.autocomplete = 'off';
    box.append(f.wrap);
  }
  return { box, fields: { title: title.input, tagline: tagline.input, licence: licence.input } };
}

function formField(id, labelText, tag) {
  const wrap = el('div', 'field');
  const label = el('label', 'field-label', labelText);
  label.htmlFor = id;
  const input = el(tag);
  input.id = id;
  wrap.append(label, input);
  return { wrap, input };
}

// The server's values fill the form, except while someone has unsaved changes in it.
export function updateSettings(card) {
  const s = card.settings;
  s.form.hidden = card.t.status === 'failed';  // a refused clip can only be deleted
  if (s.dirty) return;
  const v = editable(card.t);
  s.fields.max.value = String(v.max_duration_s);
  s.fields.fallback.value = v.fallback;
  s.fields.title.value = v.title;
  s.fields.tagline.value = v.tagline;
  s.fields.licence.value = v.licence;
  s.save.disabled = true;
}

function templateChanges(card) {
  const f = card.settings.fields;
  const v = editable(card.t);
  const changes = {};
  const max = Number(f.max.value);
  if (f.max.value.trim() !== '' && max !== v.max_duration_s) changes.max_duration_s = max;
  if (f.fallback.value !== v.fallback) changes.fallback = f.fallback.value;
  for (const key of ['title', 'tagline', 'licence']) {
    if (f[key].value.trim() !== v[key]) changes[key] = f[key].value.trim();
  }
  return changes;
}

function markDirty(card) {
  const s = card.settings;
  s.dirty = Object.keys(templateChanges(card)).length > 0;
  s.save.disabled = !s.dirty;
  if (s.dirty) setMessage(s.status, '');
}

async function saveTemplate(card) {
  const s = card.settings;
  const changes = templateChanges(card);
  if (!Object.keys(changes).length) return;
  const max = changes.max_duration_s;
  if (max !== undefined && !(max >= 1 && max <= MAX_TEMPLATE_S)) {
    setMessage(s.status, 'The longest ad is between 1 and 30 seconds.', 'error');
    s.fields.max.focus();
    return;
  }
  s.save.disabled = true;
  setMessage(s.status, 'Saving\u2026');
  try {
    const saved = await apiJson('PATCH', templatePath(card.name), { json: changes });
    s.dirty = false;
    upsertTemplate(saved || { ...card.t, ...changes });
    render();
    setMessage(s.status, 'Saved. Rooms use it from now on.', 'ok');
  } catch (err) {
    if (quiet(err)) return;
    s.save.disabled = false;
    setMessage(s.status, describe(err), 'error');
  }
}
