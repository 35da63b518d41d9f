// DOM helpers. Server data (instance names, alert texts, labels) only ever reaches the page through text nodes:
// strings passed here become Text nodes, never markup.

/** el('td', {className: 'num', title: t}, 'text', childNode, ...) */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('aria') || key === 'role' || key === 'for' || key === 'scope') node.setAttribute(toAttr(key), value);
    else node[key] = value;
  }
  append(node, children);
  return node;
}

function toAttr(key) {
  return key.startsWith('aria') ? 'aria-' + key.slice(4).toLowerCase() : key;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of node with the given children. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/**
 * Sets a node's text (as text, never markup), touching the DOM only when it differs: a keyed update rewrites the
 * cells that changed and leaves the rest, and the focus in them, alone.
 */
export function text(node, value) {
  const s = value === undefined || value === null ? '' : String(value);
  if (node.textContent !== s) node.textContent = s;
  return node;
}

/** Sets an attribute only when it differs. */
export function attr(node, name, value) {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
  return node;
}

export function byId(id) {
  return document.getElementById(id);
}

/** A number for people: fixed decimals by magnitude, '–' for missing. */
export function num(value, digits) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (digits !== undefined) return value.toFixed(digits);
  const abs = Math.abs(value);
  return abs >= 100 ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** Bytes per second in B/s, KiB/s, MiB/s. */
export function rate(value) {
  if (!Number.isFinite(value)) return '–';
  const units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s'];
  let v = value;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return num(v) + ' ' + units[i];
}

/** '3 min ago' from epoch seconds, against the server's clock when the offset is known. */
export function ago(epochSeconds, nowSeconds) {
  const s = Math.max(0, Math.round(nowSeconds - epochSeconds));
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.floor(s / 60) + ' min ago';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min ago';
  return Math.floor(s / 86400) + ' d ago';
}

export function clock(epochSeconds) {
  return new Date(epochSeconds * 1000).toLocaleTimeString();
}

export function dateTime(epochSeconds) {
  return new Date(epochSeconds * 1000).toLocaleString();
}
