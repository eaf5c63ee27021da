/** Sign-in: the key is sent once to `/ui/api/session` and exchanged for a session cookie; the page keeps nothing of it. */
import { useState } from 'preact/hooks';
import { sendJson } from '../api.js';
import { ErrorMessage, html } from '../components.js';

export function SignInPage({ onSignedIn }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    setBusy(true);
    setError(null);
    try {
      const session = await sendJson('POST', '/ui/api/session', { key: form.elements.key.value });
      form.reset();
      onSignedIn(session);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return html`<main id="main" class="sign-in">
    <h1>Portico console</h1>
    <form onSubmit=${submit} class="card">
      <label for="key">Master key or virtual key</label>
      <input id="key" name="key" type="password" autocomplete="off" spellcheck="false" required aria-describedby="key-help" />
      <p id="key-help" class="muted">The key is exchanged for a session cookie; the browser does not keep the key. A virtual key sees only what it owns.</p>
      <${ErrorMessage} error=${error} />
      <button type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  </main>`;
}
