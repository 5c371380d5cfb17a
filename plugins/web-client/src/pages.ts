/**
 * The web client's own markup: the sign-in form and the shell's top bar.
 * Both go into the theme's `main` slot as trusted HTML; every value in them
 * is escaped here. Plugin fragments fill the other slots.
 */

export interface SignInView {
  site: string;
  siteName: string;
  title: string;
  /** Where to go once signed in. */
  next: string;
  /** A reason shown above the form (e.g. "signed out"), if any. */
  notice?: string;
}

export interface ShellView {
  site: string;
  title: string;
  username: string;
  displayName: string;
}

export const ASSETS = '/assets/plugins/web-client';

export function signInMain(v: SignInView): string {
  return `<section class="wc-sign-in" aria-labelledby="wc-sign-in-title">
<h1 id="wc-sign-in-title">${esc(v.title)}</h1>
<p class="wc-sign-in__site">${esc(v.siteName)}</p>
${v.notice ? `<p class="wc-notice" role="status">${esc(v.notice)}</p>` : ''}
<form class="wc-sign-in__form" data-wc-sign-in data-site="${esc(v.site)}" data-next="${esc(v.next)}" novalidate>
<p><label for="wc-username">User name</label>
<input id="wc-username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="320"></p>
<p><label for="wc-password">Password</label>
<input id="wc-password" name="password" type="password" autocomplete="current-password" required maxlength="1024"></p>
<p class="wc-error" role="alert" data-wc-error hidden></p>
<p><button type="submit">Sign in</button></p>
</form>
</section>`;
}

export function shellMain(v: ShellView): string {
  return `<div class="wc-shell" data-wc-shell data-site="${esc(v.site)}" data-username="${esc(v.username)}">
<div class="wc-bar">
<h1 class="wc-bar__title">${esc(v.title)}</h1>
<p class="wc-bar__user" data-wc-user>${esc(v.displayName)} <span class="wc-bar__address">${esc(v.username)}@${esc(v.site)}</span></p>
<p class="wc-bar__live" role="status" aria-live="polite" data-wc-live="connecting">Connecting…</p>
<button type="button" class="wc-bar__sign-out" data-wc-sign-out>Sign out</button>
</div>
</div>`;
}

export function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
