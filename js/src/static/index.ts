/**
 * The viewer inlined into an exported notebook (syncstate/nbconvert.py): renders each saved
 * view from the state its output carries, read-only, with no kernel and nothing fetched.
 * Each view sits in an element marked `data-syncstate-view`, holding its output data as JSON
 * in a `<script type="application/vnd.syncstate.view+json">`.
 */
import css from '../../style/base.css';
import {
  describeError,
  MIME_TYPE,
  refusedText,
  renderView,
  savedMirror,
  savedNotice,
  type SavedState,
  showBanner,
  TOO_LARGE,
  viewModule,
} from '../core';


async function mount(frame: HTMLElement): Promise<void> {
  const data = JSON.parse(frame.querySelector(`script[type="${MIME_TYPE}"]`)?.textContent ?? '{}') as SavedState;
  const banners = document.createElement('div');
  const notice = document.createElement('div');
  notice.className = 'syncstate-notice';
  const el = document.createElement('div');
  el.className = 'syncstate-host';
  frame.append(banners, notice, el);
  const mirror = savedMirror(String(data.model_id ?? ''), data);
  if (mirror === null) {
    notice.textContent =
      data.state_omitted === TOO_LARGE
        ? 'syncstate: this view\u2019s state was too large to save with the notebook.'
        : 'syncstate: this view was not saved with a state.';
    return;
  }
  notice.textContent = savedNotice(mirror.modelId, mirror.version);
  const style = document.createElement('style');
  style.textContent = String(mirror.get('_css') ?? '');
  frame.append(style);
  try {
    await renderView(await viewModule(mirror), mirror, el, {
      refuse: what => showBanner(banners, refusedText(what))
    });
  } catch (error) {
    showBanner(banners, `The view failed to render: ${describeError(error)}`);
  }
}

function mountAll(): void {
  const style = document.createElement('style');
  style.textContent = css;
  document.head.append(style);
  document.querySelectorAll<HTMLElement>('[data-syncstate-view]').forEach(frame => void mount(frame));
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', mountAll, { once: true });
} else {
  mountAll();
}
