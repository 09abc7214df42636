// The campaign as the page knows it (phrases and templates), and keeping it fresh: a periodic
// reload of the whole campaign, and a fast poll of a template that is being ingested.
// The sections that show it register a renderer; render() redraws them all.

import { ApiError, apiJson, describe, quiet, signedIn, templatePath } from './api.js';
import { showStatus } from './ui.js';

const POLL_MS = 400;                  // one template's ingest progress after an upload
const REFRESH_INGESTING_MS = 2500;    // whole campaign, while something is ingesting
const REFRESH_IDLE_MS = 15000;        // whole campaign otherwise (picks up CLI changes)

export const campaign = { phrases: [], templates: [] };

let campaignSeq = 0;  // only the newest campaign answer is applied
let refreshTimer = 0;
let refreshDue = 0;
const polls = new Map();  // template name -> timer of its ingest poll
const renderers = [];

// ---------------------------------------------------------------- drawing

// Renderers run in the order registered. main.js puts the phrase form's template choice first:
// a card that sees its template become ready may then pick it there (upload.js).
export function whenRendered(renderer) { renderers.push(renderer); }

export function render() {
  for (const renderer of renderers) renderer();
}

// ---------------------------------------------------------------- reading and changing the data

export function templateByName(name) { return campaign.templates.find((t) => t.name === name) || null; }

export function phrasesUsing(name) { return campaign.phrases.filter((p) => p.template === name); }

export function upsertTemplate(t) {
  const i = campaign.templates.findIndex((x) => x.name === t.name);
  if (i >= 0) campaign.templates[i] = t;
  else campaign.templates.push(t);
}

// Deleting a template deletes the phrases that use it, on the server as here.
export function removeTemplate(name) {
  campaign.templates = campaign.templates.filter((t) => t.name !== name);
  campaign.phrases = campaign.phrases.filter((p) => p.template !== name);
}

export function replacePhrase(oldPhrase, saved) {
  campaign.phrases = campaign.phrases.map((x) => (x.phrase === oldPhrase ? saved : x));
}

export function removePhrase(phrase) {
  campaign.phrases = campaign.phrases.filter((x) => x.phrase !== phrase);
}

// ---------------------------------------------------------------- the whole campaign

export async function refreshCampaign() {
  const seq = ++campaignSeq;
  try {
    const data = await apiJson('GET', '/api/campaign');
    if (seq !== campaignSeq) return;
    campaign.phrases = Array.isArray(data && data.phrases) ? data.phrases : [];
    campaign.templates = Array.isArray(data && data.templates) ? data.templates : [];
    showStatus('');
    render();
  } catch (err) {
    if (quiet(err)) return;
    if (seq === campaignSeq) showStatus('Could not load the campaign: ' + describe(err));
  }
  if (signedIn()) scheduleRefresh();
}

function anyIngesting() { return campaign.templates.some((t) => t.status === 'ingesting'); }

// Keep at most one pending refresh, and make it sooner when something starts ingesting.
export function scheduleRefresh() {
  const delay = anyIngesting() ? REFRESH_INGESTING_MS : REFRESH_IDLE_MS;
  const due = Date.now() + delay;
  if (refreshTimer && refreshDue <= due) return;
  clearTimeout(refreshTimer);
  refreshDue = due;
  refreshTimer = setTimeout(() => { refreshTimer = 0; refreshCampaign(); }, delay);
}

// ---------------------------------------------------------------- one template while it ingests

// Fast polling of the one template just uploaded, so its progress bar moves smoothly.
export function pollTemplate(name) {
  stopPoll(name);
  const step = async () => {
    let next = POLL_MS;
    try {
      const t = await apiJson('GET', templatePath(name));
      if (t && t.name) {
        upsertTemplate(t);
        render();
        if (t.status !== 'ingesting') { polls.delete(name); return; }
      }
    } catch (err) {
      if (quiet(err)) return;
      if (err instanceof ApiError && err.status === 404) { polls.delete(name); return; }  // deleted meanwhile
      next = POLL_MS * 5;  // a network blip: try again a little later
    }
    if (polls.has(name)) polls.set(name, setTimeout(step, next));
  };
  polls.set(name, setTimeout(step, POLL_MS));
}

export function stopPoll(name) {
  clearTimeout(polls.get(name));
  polls.delete(name);
}

// At sign-out: no more requests, and nothing of the old session kept.
export function resetCampaign() {
  clearTimeout(refreshTimer);
  refreshTimer = 0;
  for (const timer of polls.values()) clearTimeout(timer);
  polls.clear();
  campaign.phrases = [];
  campaign.templates = [];
}
