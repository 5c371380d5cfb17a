// My status: state (built-in and the site's custom states), note and
// location. "Automatic" clears the manual state so idle timers and other
// devices decide again.
import { labelOf, paintIcon, showError, stateLabels } from './states.js';

const PICKABLE = ['available', 'busy', 'do-not-disturb', 'be-right-back', 'away', 'offline'];

export class StatusPicker {
  constructor(form, { api }) {
    this.form = form;
    this.api = api;
    this.select = form.querySelector('[data-presence-states]');
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#set();
    });
    form.querySelector('button[name="reset"]')?.addEventListener('click', () => void this.#clear());
  }

  setStates(answer) {
    const current = this.select.value;
    this.select.replaceChildren();
    for (const id of PICKABLE) this.select.append(new Option(id === 'offline' ? 'Appear offline' : stateLabels[id], id));
    for (const c of answer?.custom ?? []) this.select.append(new Option(c.label, `custom:${c.id}`));
    if ([...this.select.options].some((o) => o.value === current)) this.select.value = current;
  }

  async load() {
    try {
      const me = await this.api('/me');
      this.showMine(me.presence);
      const manual = me.manual;
      if (manual) {
        this.select.value = manual.custom ? `custom:${manual.custom}` : manual.state;
        this.form.elements.note.value = manual.note ?? '';
        this.form.elements.location.value = manual.location ?? '';
      } else {
        this.form.elements.note.value = me.presence?.note ?? '';
        this.form.elements.location.value = me.presence?.location ?? '';
      }
      showError(this.form, null);
    } catch (err) {
      showError(this.form, err);
    }
  }

  showMine(presence) {
    paintIcon(this.form.querySelector('[data-presence-my-icon]'), presence);
    const text = this.form.querySelector('[data-presence-my-state]');
    text.textContent = `My status: ${labelOf(presence)}`;
    this.form.dataset.myState = presence?.state ?? 'unknown';
  }

  async #set() {
    const value = this.select.value;
    const body = value.startsWith('custom:') ? { state: 'available', custom: value.slice(7) } : { state: value };
    const note = this.form.elements.note.value.trim();
    const location = this.form.elements.location.value.trim();
    if (note) body.note = note;
    if (location) body.location = location;
    await this.#run(() => this.api('/me', { method: 'PUT', body }));
  }

  async #clear() {
    await this.#run(() => this.api('/me', { method: 'DELETE' }));
    this.form.elements.note.value = '';
    this.form.elements.location.value = '';
  }

  async #run(work) {
    const buttons = this.form.querySelectorAll('button');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const answer = await work();
      this.showMine(answer.presence);
      showError(this.form, null);
    } catch (err) {
      showError(this.form, err);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }
}
