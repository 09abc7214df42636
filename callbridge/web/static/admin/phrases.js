// The trigger phrases section: the "Add a phrase" form and the table of phrases, with the
// on/off switch and the delete button of each row. Editing a row is phrase-edit.js.

import { apiJson, describe, phrasePath, quiet } from './api.js';
import { campaign, refreshCampaign, removePhrase, render, replacePhrase, templateByName } from './campaign.js';
import { cancelEdit, isEditing, openEdit } from './phrase-edit.js';
import { USABLE, fillTemplateOptions, normalisePhrase, phraseChecker, readCooldown } from './phrase-fields.js';
import { $, el, focusKey, formatSeconds, keepingFocus, quote, setMessage, toast } from './ui.js';

const ui = {
  form: $('phrase-form'), input: $('phrase-input'), template: $('phrase-template'),
  cooldown: $('phrase-cooldown'), add: $('phrase-add'), warnings: $('phrase-warnings'),
  error: $('phrase-error'), message: $('phrases-message'), empty: $('phrases-empty'),
};
const phrasesBody = $('phrases-table').tBodies[0];
const phraseCheck = phraseChecker(ui.input, ui.warnings);

let phrasesSignature = '';  // what the table shows; unchanged data is not redrawn (keeps focus)
let selectSignature = '';

export function initPhrases() {
  ui.form.addEventListener('submit', onPhraseSubmit);
  ui.input.addEventListener('input', () => {
    setMessage(ui.error, '');
    phraseCheck.schedule();
  });
}

export function focusPhraseInput() { ui.input.focus(); }

// At sign-out: stop the check and empty the form and the table.
export function resetPhrases() {
  phraseCheck.cancel();
  phrasesSignature = '';
  selectSignature = '';
  phrasesBody.replaceChildren();
  ui.form.reset();
  ui.warnings.replaceChildren();
  setMessage(ui.error, '');
  setMessage(ui.message, '');
}

// ---------------------------------------------------------------- add form

// Rebuilt only when the choice changes: rebuilding closes a select that is open.
export function renderTemplateSelect() {
  const usable = campaign.templates.filter((t) => USABLE.has(t.status));
  const signature = JSON.stringify(usable.map((t) => [t.name, t.title, t.status]));
  if (signature === selectSignature) return;
  selectSignature = signature;
  const select = ui.template;
  const current = select.value;
  const count = fillTemplateOptions(select, current);
  if (!count) {
    const opt = el('option', null, 'No template yet: upload one below');
    opt.value = '';
    select.append(opt);
  } else if (!select.value) {
    const ready = usable.find((t) => t.status === 'ready');
    select.value = (ready || usable[0]).name;
  }
  select.disabled = !count;
}

async function onPhraseSubmit(ev) {
  ev.preventDefault();
  setMessage(ui.error, '');
  const phrase = ui.input.value.trim();
  const template = ui.template.value;
  const cooldown = readCooldown(ui.cooldown);
  const fail = (field, text) => { setMessage(ui.error, text); field.focus(); };
  if (!phrase) { fail(ui.input, 'Type the phrase first.'); return; }
  if (!template) { fail(ui.input, 'There is no template to point at yet. Upload one under \u201cAd templates\u201d below.'); return; }
  if (cooldown == null) { fail(ui.cooldown, 'The cooldown is a number of seconds between 0 and 3600.'); return; }
  ui.add.disabled = true;
  try {
    const created = await apiJson('POST', '/api/phrases', { json: { phrase, template, cooldown_s: cooldown } });
    const saved = (created && created.phrase) || normalisePhrase(phrase);
    campaign.phrases = campaign.phrases.filter((p) => p.phrase !== saved).concat(created || []);
    ui.input.value = '';
    ui.cooldown.value = '0';
    phraseCheck.cancel();
    render();
    toast('Added ' + quote(saved) + '. It works in every room now.');
    ui.input.focus();  // ready for the next phrase
    refreshCampaign();
  } catch (err) {
    if (!quiet(err)) setMessage(ui.error, describe(err));
  } finally {
    ui.add.disabled = false;
  }
}

// ---------------------------------------------------------------- table

export function renderPhrases() {
  // An open inline edit is not redrawn under the person's hands; it is redrawn when it closes.
  if (isEditing()) return;
  const signature = JSON.stringify([campaign.phrases,
    campaign.templates.map((t) => [t.name, t.status, t.title])]);
  if (signature === phrasesSignature) return;
  phrasesSignature = signature;
  keepingFocus(phrasesBody, () => {
    phrasesBody.replaceChildren(...campaign.phrases.map(phraseRow));
  });
  ui.empty.hidden = campaign.phrases.length > 0;
}

function phraseRow(p) {
  const row = el('tr');
  row.dataset.phrase = p.phrase;
  row.classList.toggle('is-off', !p.enabled);
  const head = el('th', 'cell-phrase');
  head.scope = 'row';
  head.append(el('span', 'phrase', quote(p.phrase)));
  row.append(head, templateCell(p), toggleCell(p),
    el('td', 'cell-num', Number(p.cooldown_s) > 0 ? formatSeconds(p.cooldown_s) : 'none'),
    warningsCell(p.warnings), actionsCell(p));
  return row;
}

// Says when a phrase cannot fire because of its template, since the row alone would not show it.
function templateCell(p) {
  const cell = el('td', 'cell-template');
  cell.append(el('code', 'tpl-ref', p.template));
  const t = templateByName(p.template);
  let note = null;
  if (!t) note = ['missing', 'template missing: cannot fire'];
  else if (t.status === 'ingesting') note = ['pending', 'being prepared: fires once ready'];
  else if (t.status === 'failed') note = ['failed', 'template failed: cannot fire'];
  if (note) {
    const tag = el('span', 'cell-note', note[1]);
    tag.dataset.kind = note[0];
    cell.append(tag);
  }
  return cell;
}

function toggleCell(p) {
  const cell = el('td', 'cell-toggle');
  const label = el('label', 'switch');
  const input = el('input');
  input.type = 'checkbox';
  input.checked = !!p.enabled;
  input.dataset.key = 'toggle:' + p.phrase;
  input.setAttribute('aria-label', 'Enabled: ' + p.phrase);
  input.addEventListener('change', () => onToggle(p, input));
  label.append(input, el('span', 'switch-track'), el('span', 'switch-text', p.enabled ? 'On' : 'Off'));
  label.querySelector('.switch-track').setAttribute('aria-hidden', 'true');
  cell.append(label);
  return cell;
}

function warningsCell(warnings) {
  const cell = el('td', 'cell-warnings');
  const list = Array.isArray(warnings) ? warnings : [];
  if (!list.length) cell.append(el('span', 'muted', '\u2014'));
  for (const w of list) cell.append(el('p', 'warning warning-small', String(w)));
  return cell;
}

function actionsCell(p) {
  const cell = el('td', 'cell-actions');
  const edit = el('button', 'btn btn-quiet btn-small', 'Edit');
  edit.type = 'button';
  edit.dataset.key = 'edit:' + p.phrase;
  edit.setAttribute('aria-label', 'Edit ' + quote(p.phrase));
  edit.addEventListener('click', () => startEdit(p));
  const del = el('button', 'btn btn-danger btn-small', 'Delete');
  del.type = 'button';
  del.dataset.key = 'delete:' + p.phrase;
  del.setAttribute('aria-label', 'Delete ' + quote(p.phrase));
  del.addEventListener('click', () => onDeletePhrase(p, del));
  cell.append(edit, del);
  return cell;
}

async function onToggle(p, input) {
  const enabled = input.checked;
  setMessage(ui.message, '');
  input.disabled = true;
  try {
    const saved = await apiJson('PATCH', phrasePath(p.phrase), { json: { enabled } });
    replacePhrase(p.phrase, saved || { ...p, enabled });
    toast(quote(p.phrase) + (enabled ? ' is on: it starts ads again.' : ' is off: it no longer starts ads.'));
  } catch (err) {
    if (quiet(err)) return;
    input.checked = !enabled;
    setMessage(ui.message, 'Could not change ' + quote(p.phrase) + ': ' + describe(err));
  } finally {
    input.disabled = false;
  }
  // Disabling the switch took the focus away; a keyboard user expects it back on the switch.
  const hadFocus = document.activeElement === input || document.activeElement === document.body;
  render();
  if (hadFocus) focusKey(phrasesBody, 'toggle:' + p.phrase);
  refreshCampaign();
}

async function onDeletePhrase(p, button) {
  if (!confirm('Delete the phrase ' + quote(p.phrase) + '?\n\nIt stops starting ads in every room at once.')) return;
  setMessage(ui.message, '');
  button.disabled = true;
  try {
    await apiJson('DELETE', phrasePath(p.phrase));
    removePhrase(p.phrase);
    render();
    toast('Deleted ' + quote(p.phrase) + '.');
    refreshCampaign();
  } catch (err) {
    if (quiet(err)) return;
    button.disabled = false;
    setMessage(ui.message, 'Could not delete ' + quote(p.phrase) + ': ' + describe(err));
  }
}

// ---------------------------------------------------------------- inline edit (phrase-edit.js)

function startEdit(p) {
  cancelEdit(false);  // one row at a time; closing it redraws the table, so the row is looked up after
  const row = Array.from(phrasesBody.rows).find((r) => r.dataset.phrase === p.phrase);
  if (!row) return;
  setMessage(ui.message, '');
  openEdit(p, row, closeEdit);
}

// The edited row's DOM is gone: redraw from the data, then put the focus back where it belongs.
function closeEdit(key) {
  phrasesSignature = '';
  renderPhrases();
  if (key) focusKey(phrasesBody, key);
}
