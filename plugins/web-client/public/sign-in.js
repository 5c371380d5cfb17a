// Sign-in page: POST /api/auth/login sets the HttpOnly session cookie, then
// the browser goes to the client. No inline script: the host's CSP allows
// only same-origin script files.

const MESSAGES = {
  CORE_ERR_AUTH_INVALID: 'The user name or password is wrong.',
  CORE_ERR_SIGNIN_LOCKED: 'This account is locked after too many failed sign-ins. Wait, or ask an administrator.',
  CORE_ERR_SIGNIN_THROTTLED: 'Too many failed sign-ins from this address. Wait a little and try again.',
  CORE_ERR_RATE_LIMITED: 'Too many attempts. Wait a little and try again.',
  CORE_ERR_REQUEST_INVALID: 'Enter your user name and password.',
};

function start() {
  const form = document.querySelector('form[data-wc-sign-in]');
  if (!form) return;
  const error = form.querySelector('[data-wc-error]');
  const button = form.querySelector('button[type="submit"]');
  const site = form.dataset.site;

  const show = (text) => {
    error.textContent = text;
    error.hidden = !text;
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    if (!username || !password) {
      show(MESSAGES.CORE_ERR_REQUEST_INVALID);
      (username ? form.elements.password : form.elements.username).focus();
      return;
    }
    show('');
    button.disabled = true;
    try {
      // "alice@site" names the site itself; a bare name is a user of this page's site.
      const body = username.includes('@') ? { username, password } : { username, site, password };
      const res = await fetch('/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify(body),
      });
      const answer = await res.json().catch(() => ({}));
      if (!res.ok) {
        const retry = res.headers.get('retry-after');
        show(`${MESSAGES[answer.code] ?? answer.message ?? `Sign-in failed (${res.status}).`}${retry ? ` Retry in ${retry} s.` : ''}`);
        form.elements.password.select();
        return;
      }
      if (!answer.site) {
        show('Host administrators have no client; sign in as a user of this site, or use the admin console.');
        await fetch('/api/auth/logout', { method: 'POST', credentials: 'same-origin' });
        return;
      }
      window.location.assign(answer.site === site ? form.dataset.next : `/client/${encodeURIComponent(answer.site)}/`);
    } catch (err) {
      show(`The server cannot be reached (${err.message}). Check the connection and try again.`);
    } finally {
      button.disabled = false;
    }
  });
  form.elements.username.focus();
}

start();
