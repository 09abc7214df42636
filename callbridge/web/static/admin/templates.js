// The ad template cards: one per template, built once and then updated in place, so that a
// refresh does not take the focus or an open <details> away. Each card holds its settings form
// (template-settings.js), its preview (template-preview.js) and a delete button.

import { apiJson, describe, quiet, templatePath } from './api.js';
import { campaign, phrasesUsing, refreshCampaign, removeTemplate, render, stopPoll } from './campaign.js';
import { discardPreview, previewBox } from './template-preview.js';
import { editable, settingsForm, updateSettings } from './template-settings.js';
import { $, el, formatSeconds, plural, quote, setMessage, toast } from './ui.js';

const grid = $('templates');
const empty = $('templates-empty');
const cards = new Map();  // template name -> card
let onIngestEnd = () => {};

export function hasCard(name) { return cards.has(name); }
export function cardFor(name) { return cards.get(name); }

// Told once when a template stops ingesting, whichever of the poll or the list refresh sees it first.
export function whenIngestEnds(handler) { onIngestEnd = handler; }

export function resetTemplates() {
  for (const card of cards.values()) discardPreview(card);
  cards.clear();
  grid.replaceChildren();
}

export function renderTemplates() {
  const seen = new Set();
  campaign.templates.forEach((t, i) => {
    seen.add(t.name);
    let card = cards.get(t.name);
    if (!card) {
      card = createCard(t);
      cards.set(t.name, card);
    }
    updateCard(card, t);
    // Move only cards that are out of place: moving a node takes the focus away from it.
    if (grid.children[i] !== card.root) grid.insertBefore(card.root, grid.children[i] || null);
  });
  for (const [name, card] of cards) {
    if (!seen.has(name)) {
      discardPreview(card);
      card.root.remove();
      cards.delete(name);
    }
  }
  empty.hidden = campaign.templates.length > 0;
}

// ---------------------------------------------------------------- building a card

function createCard(t) {
  const id = 'tpl-' + t.name;  // names are [a-z0-9-]: safe in an id
  const root = el('article', 'tpl-card');
  root.dataset.template = t.name;
  root.setAttribute('aria-labelledby', id + '-title');
  const head = cardHead(t, id);
  const tagline = el('p', 'tpl-tagline');
  const progress = progressBar(id);
  const verdict = el('p', 'verdict');
  const error = el('p', 'error');
  const facts = el('dl', 'tpl-facts');
  const card = {
    name: t.name, id, root, ...head.parts, tagline, progress: progress.box, bar: progress.bar,
    progressText: progress.text, verdict, error, licence: fact(facts, 'Licence'), length: fact(facts, 'Longest ad'),
    fallback: fact(facts, 'Without consent'), uses: fact(facts, 'Phrases'), t, lastStatus: t.status,
  };
  card.settings = settingsForm(card);
  card.preview = previewBox(card);
  card.footer = cardFooter(card);
  root.append(head.box, tagline, progress.box, verdict, error, facts, card.settings.form, card.preview.box,
    card.footer.box);
  return card;
}

// The title gets the whole width (titles can be long); name and badges share the line below.
function cardHead(t, id) {
  const box = el('header', 'tpl-head');
  const title = el('h3', 'tpl-title');
  title.id = id + '-title';
  const meta = el('div', 'tpl-meta');
  const statusBadge = el('span', 'badge status-badge');
  const builtinBadge = el('span', 'badge badge-builtin', 'built-in');
  builtinBadge.title = 'Comes with callbridge: it can be edited but not deleted';
  meta.append(el('code', 'tpl-name', t.name), statusBadge, builtinBadge);
  box.append(title, meta);
  return { box, parts: { title, statusBadge, builtinBadge } };
}

function progressBar(id) {
  const box = el('div', 'progress');
  const bar = el('progress');
  bar.max = 1;
  bar.id = id + '-progress';
  const text = el('span', 'progress-text');
  text.id = id + '-progress-text';
  bar.setAttribute('aria-labelledby', text.id);
  box.append(bar, text);
  return { box, bar, text };
}

function fact(list, label) {
  const dt = el('dt', null, label);
  const dd = el('dd');
  list.append(dt, dd);
  return { dt, dd, set(text, shown = true) { dd.textContent = text; dt.hidden = !shown; dd.hidden = !shown; } };
}

// ---------------------------------------------------------------- updating a card

function updateCard(card, t) {
  const was = card.lastStatus;
  card.t = t;
  card.lastStatus = t.status;
  card.root.dataset.status = t.status;
  card.root.classList.toggle('is-builtin', !!t.builtin);
  card.title.textContent = t.title || t.name;
  card.statusBadge.textContent = t.status;
  card.statusBadge.dataset.status = t.status;
  card.builtinBadge.hidden = !t.builtin;
  card.tagline.textContent = t.tagline || '';
  card.tagline.hidden = !t.tagline;
  updateState(card, t);
  updateFacts(card, t);
  updateSettings(card);
  card.preview.box.hidden = t.status !== 'ready';
  card.footer.del.hidden = !!t.builtin;
  card.footer.builtinNote.hidden = !t.builtin;
  if (was === 'ingesting' && t.status !== 'ingesting') onIngestEnd(t);
}

// The progress bar while ingesting, then the verdict (ready) or the reason (failed).
function updateState(card, t) {
  const ingesting = t.status === 'ingesting';
  const fraction = Math.min(1, Math.max(0, Number(t.progress) || 0));
  card.progress.hidden = !ingesting;
  card.bar.value = fraction;
  card.progressText.textContent = 'Following the actor\u2019s face through the clip\u2026 ' + Math.round(fraction * 100) + ' %';
  card.verdict.textContent = t.status === 'ready' && t.verdict ? t.verdict : '';
  card.verdict.hidden = !card.verdict.textContent;
  card.error.textContent = t.status === 'failed' ? (t.error || 'This clip could not be used.') : '';
  card.error.hidden = !card.error.textContent;
}

// Length and fallback are read from the settings form, except on a failed card, which has none.
function updateFacts(card, t) {
  const failed = t.status === 'failed';
  card.licence.set(t.licence || (t.builtin ? 'comes with callbridge' : 'not noted'));
  card.length.set(formatSeconds(editable(t).max_duration_s), failed);
  card.fallback.set(t.fallback === 'none' ? 'no ad' : 'the clip as it is', failed);
  const used = phrasesUsing(t.name).map((p) => quote(p.phrase));
  card.uses.set(used.length ? used.join(', ') : 'none yet');
}

// ---------------------------------------------------------------- delete

function cardFooter(card) {
  const box = el('footer', 'tpl-foot');
  const del = el('button', 'btn btn-danger btn-small', 'Delete template');
  del.type = 'button';
  del.setAttribute('aria-label', 'Delete template ' + card.name);
  del.addEventListener('click', () => onDeleteTemplate(card, del));
  const builtinNote = el('span', 'fineprint', 'Built-in: cannot be deleted.');
  const error = el('p', 'form-error');
  error.setAttribute('role', 'alert');
  error.hidden = true;
  box.append(del, builtinNote, error);
  return { box, del, builtinNote, error };
}

async function onDeleteTemplate(card, button) {
  const used = phrasesUsing(card.name).map((p) => quote(p.phrase));
  const phrasesNote = used.length
    ? 'Its ' + plural(used.length, 'phrase', 'phrases') + ' will be deleted too: ' + used.join(', ') + '.'
    : 'Phrases that use it are deleted with it (none do at the moment).';
  if (!confirm('Delete the template ' + quote(card.name) + '?\n\n' + phrasesNote
    + '\nAn ad of it that is playing right now finishes first. This cannot be undone.')) return;
  setMessage(card.footer.error, '');
  button.disabled = true;
  try {
    await apiJson('DELETE', templatePath(card.name));
    stopPoll(card.name);
    removeTemplate(card.name);
    render();
    toast('Deleted template ' + quote(card.name) + (used.length ? ' and its phrases.' : '.'));
    refreshCampaign();
  } catch (err) {
    if (quiet(err)) return;
    button.disabled = false;
    setMessage(card.footer.error, describe(err));
  }
}
