/**
 * The JupyterLab (and Notebook 7) extension: every notebook gets a view renderer bound to the
 * models of its own kernel.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';

import { MIME_TYPE, rendererFactory } from './renderer';
import { NotebookModels } from './session';

/**
 * The global rendermime registry knows no kernel, so the renderer is registered on each
 * notebook's own registry, with that notebook's models.
 */
function bindNotebook(panel: NotebookPanel): void {
  const models = new NotebookModels(panel.sessionContext);
  const rendermime = panel.content.rendermime;
  rendermime.removeMimeType(MIME_TYPE);
  // Ahead of ipywidgets' renderer (rank -10) for outputs that also carry a widget view.
  rendermime.addFactory(rendererFactory(models), -20);
  panel.disposed.connect(() => models.dispose());
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'syncstate:plugin',
  description: 'Renders syncstate models in notebooks and keeps them in sync with the kernel.',
  autoStart: true,
  requires: [INotebookTracker],
  activate: (_app: JupyterFrontEnd, notebooks: INotebookTracker) => {
    notebooks.forEach(bindNotebook);
    notebooks.widgetAdded.connect((_tracker, panel) => bindNotebook(panel));
  },
};

export default plugin;
