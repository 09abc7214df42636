// Small DOM and text helpers shared by the admin page's modules: building nodes, formatting
// numbers and times, messages under forms, the status line and toasts.

export const $ = (id) => document.getElementById(id);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

export function option(value, text) {
  const opt = el('option', null, text);
  opt.value = value;
  return opt;
}

export function quote(s) { return '\u201c' + s + '\u201d'; }

export function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

export function formatSeconds(s) {
  const n = Number(s) || 0;
  return (Number.isInteger(n) ? String(n) : n.toFixed(1)) + ' s';
}

export function formatTime(unixSeconds) {
  if (unixSeconds == null || !Number.isFinite(Number(unixSeconds))) return null;
  const d = new Date(Number(unixSeconds) * 1000);
  const node = el('time', null, d.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }));
  node.dateTime = d.toISOString();
  return node;
}

export function formatMB(bytes) { return (bytes / 1e6).toFixed(1) + ' MB'; }  // decimal, as the server counts

// An empty text hides the message; the kind (ok, error, info, busy) is for the stylesheet.
export function setMessage(node, text, kind) {
  node.textContent = text || '';
  node.hidden = !text;
  if (kind) node.dataset.kind = kind;
  else delete node.dataset.kind;
}

export function showStatus(text) { setMessage($('status'), text); }

export function toast(text) {
  const t = el('div', 'toast', text);
  $('toasts').append(t);
  setTimeout(() => t.classList.add('out'), 3200);
  setTimeout(() => t.remove(), 3800);
}

// Redrawing replaces nodes; keyboard users must not lose their place, so focus moves to
// the element with the same data-key in the new content.
export function keepingFocus(container, redraw) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.key : null;
  redraw();
  if (key) focusKey(container, key);
}

export function focusKey(container, key) {
  const again = Array.from(container.querySelectorAll('[data-key]')).find((n) => n.dataset.key === key);
  if (again) again.focus();
}

export function playQuietly(video) {
  const p = video.play();
  if (p && p.catch) p.catch(() => {});  // autoplay may be refused; the controls are there
}
