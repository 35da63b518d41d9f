// The admin token: typed by the user, kept in this tab's sessionStorage (gone when the tab closes), sent only as
// an Authorization header on admin calls, never put in a URL.
import {byId, fill} from './dom.js';

const KEY = 'pulse.adminToken';

export class AdminTokenMissing extends Error {}

export function adminToken() {
  return sessionStorage.getItem(KEY) || '';
}

export async function adminFetch(method, path, body) {
  const token = adminToken();
  if (!token) throw new AdminTokenMissing('no admin token');
  const headers = {Authorization: 'Bearer ' + token};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body)});
  const answer = await r.json().catch(() => ({}));
  if (!r.ok) {
    throw new Error(r.status === 401 ? 'The admin token was refused (401).'
      : r.status === 403 ? 'Admin actions are disabled on this server (403): ' + (answer.message || '')
        : r.status + ': ' + (answer.message || r.statusText));
  }
  return answer;
}

/** Wires the token form: save for this tab, forget. */
export function setUpAdminForm() {
  const form = byId('admin-form');
  const input = byId('admin-token');
  const state = byId('admin-state');
  const show = () => fill(state, adminToken() ? 'An admin token is set for this tab.' : 'No admin token: silence and acknowledge need one.');
  form.addEventListener('submit', event => {
    event.preventDefault();
    const value = input.value.trim();
    if (value) sessionStorage.setItem(KEY, value);
    input.value = '';
    show();
  });
  byId('admin-forget').addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    show();
  });
  show();
}
