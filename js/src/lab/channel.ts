/**
 * Comm messages written straight to the kernel's main shell.
 *
 * JupyterLab 4.4+ may address a comm's messages to a kernel subshell (a thread in ipykernel 7)
 * and manages that subshell asynchronously inside `IComm`: switching it off after a comm exists
 * races with its start-up and unbalances the subshell's reference count, so messages end up
 * addressed to deleted subshells and are dropped. syncstate's edits must be applied on the main
 * shell, between cells, in arrival order; so they never go through `IComm.send`, whose
 * subshell this module leaves alone, but are written here without a subshell id
 * (docs/design.md, "Edits are handled on the kernel's main shell").
 */
import { type Kernel, KernelMessage } from '@jupyterlab/services';
import type { JSONObject } from '@lumino/coreutils';

export function sendToMainShell(
  kernel: Kernel.IKernelConnection,
  commId: string,
  data: JSONObject,
  buffers?: ArrayBuffer[]
): void {
  const msg = KernelMessage.createMessage<KernelMessage.ICommMsgMsg<'shell'>>({
    msgType: 'comm_msg',
    channel: 'shell',
    username: kernel.username,
    session: kernel.clientId,
    content: { comm_id: commId, data },
    buffers
  });
  kernel.sendShellMessage(msg, false, true);
}
