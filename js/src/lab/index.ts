/**
 * The JupyterLab (and Notebook 7) extension: every notebook and every code console gets a view
 * renderer bound to the models of its own kernel.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import type { ISessionContext } from '@jupyterlab/apputils';
import { IConsoleTracker, type ConsolePanel } from '@jupyterlab/console';
import { INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { Widget } from '@lumino/widgets';

import { MIME_TYPE } from '../core';
import { rendererFactory } from './renderer';
import { SessionModels } from './session';

/**
 * The global rendermime registry knows no kernel, so the renderer is registered on each
 * panel's own registry, with that panel's models. ipywidgets' Output widget renders its
 * outputs with the notebook's registry, so views inside it are bound too.
 */
function bind(panel: Widget, sessionContext: ISessionContext, rendermime: IRenderMimeRegistry): SessionModels {
  const models = new SessionModels(sessionContext);
  rendermime.removeMimeType(MIME_TYPE);
  // Ahead of ipywidgets' renderer (rank -10) for outputs that also carry a widget view.
  rendermime.addFactory(rendererFactory(models), -20);
  panel.disposed.connect(() => models.dispose());
  return models;
}

function bindNotebook(panel: NotebookPanel): void {
  const models = bind(panel, panel.sessionContext, panel.content.rendermime);
  // Saved outputs keep each live view's last state (for reopening without a kernel, and export).
  panel.context.saveState.connect((_context, state) => {
    if (state === 'started') {
      models.willSave();
    }
  });
}

function bindConsole(panel: ConsolePanel): void {
  bind(panel, panel.sessionContext, panel.console.rendermime);
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'syncstate:plugin',
  description: 'Renders syncstate models in notebooks and consoles and keeps them in sync with the kernel.',
  autoStart: true,
  // Both optional: a shell without notebooks (Voila) renders through the widget bridge instead,
  // and an extension that fails to activate there would only log an error.
  optional: [INotebookTracker, IConsoleTracker],
  activate: (
    _app: JupyterFrontEnd,
    notebooks: INotebookTracker | null,
    consoles: IConsoleTracker | null
  ) => {
    notebooks?.forEach(bindNotebook);
    notebooks?.widgetAdded.connect((_tracker, panel) => bindNotebook(panel));
    consoles?.forEach(bindConsole);
    consoles?.widgetAdded.connect((_tracker, panel) => bindConsole(panel));
  },
};

export default plugin;
