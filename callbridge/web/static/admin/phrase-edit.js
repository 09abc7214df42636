// Editing a phrase in its own table row: the row's cells become fields, Enter saves and Escape
// cancels. The table (phrases.js) opens the edit and is told when it closes, to redraw the row.

import { apiJson, describe, phrasePath, quiet } from './api.js';
import { refreshCampaign, replacePhrase } from './campaign.js';
import { fillTemplateOptions, normalisePhrase, phraseChecker, readCooldown } from './phrase-fields.js';
import { el, quote, setMessage, toast } from './ui.js';

let editing = null;  // {phrase, original, row, fields, onClose} while a row is edited

export function isEditing() { return editing !== null; }

// At sign-out the row is gone with the table; only the state is dropped.
export function forgetEdit() { editing = null; }

// onClose(key) redraws the table and focuses the element with that data-key, if any.
export function openEdit(p, row, onClose) {
  const fields = editFields(p);
  editing = { phrase: p.phrase, original: p, row, fields, onClose };
  row.classList.add('is-editing');
  row.replaceChildren(fields.phraseCell, fields.templateCell, fields.enabledCell, fields.cooldownCell,
    fields.noteCell, fields.actionsCell);
  fields.phrase.focus();
  fields.phrase.select();
}

export function cancelEdit(refocus) {
  if (!editing) return;
  finishEdit(refocus ? 'edit:' + editing.phrase : null);
}

function finishEdit(key) {
  const { fields, onClose } = editing;
  fields.checker.cancel();
  editing = null;
  onClose(key);
}

// ---------------------------------------------------------------- the fields

function editFields(p) {
  const id = 'edit-' + Math.random().toString(36).slice(2);
  const phrase = phraseField(id, p);
  const template = labelledInput('select', id + '-template', 'Template');
  fillTemplateOptions(template.input, p.template, { keep: p.template });
  const enabled = enabledSwitch(p);
  const cooldown = labelledInput('input', id + '-cooldown', 'Cooldown in seconds');
  Object.assign(cooldown.input, { type: 'number', min: '0', max: '3600', step: '1', value: String(p.cooldown_s || 0) });

  const warnings = el('div', 'warnings');
  warnings.setAttribute('aria-live', 'polite');
  const error = el('p', 'form-error');
  error.setAttribute('role', 'alert');
  error.hidden = true;
  const checker = phraseChecker(phrase.input, warnings);
  phrase.input.addEventListener('input', () => checker.schedule());

  const save = smallButton('btn btn-primary btn-small', 'Save', saveEdit);
  const cancel = smallButton('btn btn-quiet btn-small', 'Cancel', () => cancelEdit(true));

  const cells = {
    phraseCell: wrapCell('th', phrase.wrap), templateCell: wrapCell('td', template.wrap),
    enabledCell: wrapCell('td', enabled.label), cooldownCell: wrapCell('td', cooldown.wrap),
    noteCell: wrapCell('td', warnings, error), actionsCell: wrapCell('td', save, cancel),
  };
  cells.phraseCell.scope = 'row';
  cells.actionsCell.className = 'cell-actions';
  saveOnEnterCancelOnEscape([phrase.input, template.input, enabled.input, cooldown.input]);
  return {
    ...cells, phrase: phrase.input, template: template.input, enabled: enabled.input, cooldown: cooldown.input,
    error, save, checker,
  };
}

function phraseField(id, p) {
  const phrase = labelledInput('input', id + '-phrase', 'Phrase');
  phrase.input.type = 'text';
  phrase.input.maxLength = 80;
  phrase.input.value = p.phrase;
  phrase.input.spellcheck = false;
  return phrase;
}

function enabledSwitch(p) {
  const input = el('input');
  input.type = 'checkbox';
  input.checked = !!p.enabled;
  const label = el('label', 'switch');
  const text = el('span', 'switch-text', p.enabled ? 'On' : 'Off');
  label.append(input, el('span', 'switch-track'), text);
  input.setAttribute('aria-label', 'Enabled');
  input.addEventListener('change', () => { text.textContent = input.checked ? 'On' : 'Off'; });
  return { input, label };
}

function smallButton(className, text, onClick) {
  const button = el('button', className, text);
  button.type = 'button';
  button.addEventListener('click', onClick);
  return button;
}

// Enter saves and Escape cancels from any field of the row, as in a spreadsheet.
function saveOnEnterCancelOnEscape(inputs) {
  for (const input of inputs) {
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && input.tagName !== 'SELECT') { ev.preventDefault(); saveEdit(); }
      if (ev.key === 'Escape') { ev.preventDefault(); cancelEdit(true); }
    });
  }
}

function labelledInput(tag, id, labelText) {
  const wrap = el('div', 'edit-field');
  const label = el('label', 'visually-hidden', labelText);
  label.htmlFor = id;
  const input = el(tag);
  input.id = id;
  wrap.append(label, input);
  return { wrap, input };
}

function wrapCell(tag, ...children) {
  const cell = el(tag);
  cell.append(...children);
  return cell;
}

// ---------------------------------------------------------------- saving

// Only what changed is sent, so a rename does not rewrite the other fields.
function editChanges() {
  const { original: p, fields: f } = editing;
  const changes = {};
  const phrase = f.phrase.value.trim();
  if (!phrase) throw new Error('A phrase needs at least one word.');
  if (normalisePhrase(phrase) !== p.phrase) changes.phrase = phrase;
  if (f.template.value && f.template.value !== p.template) changes.template = f.template.value;
  if (f.enabled.checked !== !!p.enabled) changes.enabled = f.enabled.checked;
  const cooldown = readCooldown(f.cooldown);
  if (cooldown == null) throw new Error('The cooldown is a number of seconds between 0 and 3600.');
  if (cooldown !== Number(p.cooldown_s || 0)) changes.cooldown_s = cooldown;
  return changes;
}

async function saveEdit() {
  if (!editing) return;
  const current = editing;
  const f = current.fields;
  let changes;
  try {
    changes = editChanges();
  } catch (err) {
    setMessage(f.error, err.message);
    return;
  }
  if (!Object.keys(changes).length) { cancelEdit(true); return; }
  f.save.disabled = true;
  setMessage(f.error, '');
  try {
    const saved = await apiJson('PATCH', phrasePath(current.phrase), { json: changes });
    if (editing !== current) return;
    const result = saved || { ...current.original, ...changes };
    replacePhrase(current.phrase, result);
    finishEdit('edit:' + result.phrase);
    toast('Saved ' + quote(result.phrase) + '.');
    refreshCampaign();
  } catch (err) {
    if (quiet(err) || editing !== current) return;
    f.save.disabled = false;
    setMessage(f.error, describe(err));
  }
}
