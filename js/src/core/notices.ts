/**
 * What a view's frame says around the view: error banners and notices, shared by the
 * JupyterLab renderer and the static page of an exported notebook.
 */

/** Errors shown at once above a view; older ones give way to newer ones. */
const MAX_BANNERS = 5;

export function shortId(modelId: string): string {
  return modelId.length > 8 ? `${modelId.slice(0, 8)}…` : modelId;
}

export function describeError(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : String(error);
    return typeof code === 'string' ? `${code}: ${text}` : text;
  }
  return String(error);
}

/** Adds a dismissible error banner to `banners` (an element holding only banners). */
export function showBanner(banners: HTMLElement, text: string): void {
  const banner = document.createElement('div');
  banner.className = 'syncstate-error';
  banner.setAttribute('role', 'alert');
  const message = document.createElement('span');
  message.textContent = text;
  const dismiss = document.createElement('button');
  dismiss.className = 'syncstate-error-dismiss';
  dismiss.title = 'Dismiss';
  dismiss.textContent = '×';
  dismiss.onclick = () => banner.remove();
  banner.append(message, dismiss);
  banners.append(banner);
  while (banners.childElementCount > MAX_BANNERS) {
    banners.firstElementChild?.remove();
  }
}

/** The notice above a view of a saved state. */
export function savedNotice(modelId: string, version: number): string {
  return (
    `syncstate: not live — the last saved state of model ${shortId(modelId)} (version ${version}). ` +
    'No kernel has this model: run the cell to make the view live.'
  );
}

/** The banner for an edit (or message, or command) a view of a saved state tried. */
export function refusedText(what: string): string {
  return `Not sent: this view shows a saved state and has no kernel (${what} refused).`;
}
