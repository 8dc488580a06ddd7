// The login form: shown alone while the server wants a key the page does not have.
import { ApiError, getJson, setKey } from './api.js';
import { setText } from './dom.js';

const form = () => document.getElementById('login-form');

// Shows the form; calls onLogin(runtimesDoc) once a key was accepted (and kept).
export function showLogin(onLogin, message = '') {
  const login = document.getElementById('login');
  const input = document.getElementById('api-key');
  const error = document.getElementById('login-error');
  const submit = document.getElementById('login-submit');
  login.hidden = false;
  setText(error, message);
  input.value = '';
  input.focus();
  form().onsubmit = async (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    submit.disabled = true;
    setText(error, '');
    try {
      const doc = await getJson('/v1/runtimes', { key });
      setKey(key);
      input.value = '';
      login.hidden = true;
      onLogin(doc);
    } catch (err) {
      setText(error, err instanceof ApiError && err.status === 401 ? 'That key was not accepted.' : `Cannot reach the server: ${err.message}`);
      input.select();
    } finally {
      submit.disabled = false;
    }
  };
}

export function hideLogin() {
  document.getElementById('login').hidden = true;
}
