// What the "Add a phrase" form and the inline edit of a phrase row share: the check while
// typing, the choice of template and the cooldown field.

import { api, errorFrom, quiet } from './api.js';
import { campaign } from './campaign.js';
import { el, option } from './ui.js';

const CHECK_DEBOUNCE_MS = 300;
export const USABLE = new Set(['ready', 'ingesting']);  // templates a phrase may point at

// What the server stores: lowercase, single spaces (callbridge/config/campaign.py check_phrase).
export function normalisePhrase(s) { return s.toLowerCase().split(/\s+/).filter(Boolean).join(' '); }

// Seconds, or null when the field holds something the server would refuse.
export function readCooldown(input) {
  const raw = input.value.trim();
  const value = raw === '' ? 0 : Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 3600) return null;
  return value;
}

function templateLabel(t) {
  const base = t.title && t.title !== t.name ? t.title + ' (' + t.name + ')' : t.name;
  return t.status === 'ingesting' ? base + ' \u00b7 still being prepared' : base;
}

// Fills a select with the usable templates; `keep` is the one a phrase already points at,
// listed whatever its state. Returns how many usable templates there are.
export function fillTemplateOptions(select, current, { keep } = {}) {
  const usable = campaign.templates.filter((t) => USABLE.has(t.status) || t.name === keep);
  select.replaceChildren(...usable.map((t) => option(t.name, templateLabel(t))));
  if (keep && !usable.some((t) => t.name === keep)) {
    select.append(option(keep, keep + ' (missing)'));  // else the select would silently switch template
  }
  if (Array.from(select.options).some((o) => o.value === current)) select.value = current;
  return usable.length;
}

function showWarnings(out, warnings, problem) {
  const items = warnings.map((w) => el('p', 'warning', String(w)));
  if (problem) items.push(el('p', 'warning warning-strong', 'This cannot be saved as it is: ' + problem));
  if (warnings.length && !problem) items.push(el('p', 'warning-note', 'You can still add it.'));
  out.replaceChildren(...items);
}

// Asks the server what it thinks of a phrase while it is typed; only the latest answer counts.
export function phraseChecker(input, out) {
  let timer = 0;
  let seq = 0;
  async function run() {
    const mine = ++seq;
    const text = input.value.trim();
    if (!text) { out.replaceChildren(); return; }
    try {
      const res = await api('POST', '/api/phrases/check', { json: { phrase: text } });
      if (mine !== seq) return;
      if (res.ok) {
        const data = await res.json();
        if (mine === seq) showWarnings(out, Array.isArray(data.warnings) ? data.warnings : []);
      } else {
        const err = await errorFrom(res);
        if (mine === seq) showWarnings(out, [], err.message);
      }
    } catch (err) {
      if (!quiet(err) && mine === seq) out.replaceChildren();  // a hint only: stay quiet on failure
    }
  }
  return {
    schedule() {
      clearTimeout(timer);
      seq += 1;  // an answer already on its way is for older text
      timer = setTimeout(run, CHECK_DEBOUNCE_MS);
    },
    cancel() {
      clearTimeout(timer);
      seq += 1;
      out.replaceChildren();
    },
  };
}
