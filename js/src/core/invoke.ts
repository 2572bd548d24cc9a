/**
 * `experimental.invoke(name, msg, {buffers, signal})`: calls a Python command of the model and
 * resolves to what it returned, `[msg, buffers]`. Requests and replies ride on custom messages
 * with a request id (docs/protocol.md, "Commands"); every page receives every reply and keeps
 * only its own.
 */
import { readInvokeReply, writeInvoke } from './messages';
import type { Mirror } from './mirror';


export interface InvokeOptions {
  buffers?: (ArrayBuffer | DataView)[];
  /** Aborting it rejects the promise at once; the kernel still runs the command. */
  signal?: AbortSignal;
}

export type Invoke = (name: string, msg?: unknown, options?: InvokeOptions) => Promise<[unknown, DataView[]]>;

interface Waiting {
  resolve: (reply: [unknown, DataView[]]) => void;
  reject: (error: Error) => void;
}

class Invoker {
  private readonly waiting = new Map<string, Waiting>();
  private count = 0;

  constructor(private readonly mirror: Mirror) {
    mirror.on('msg:custom', (content: unknown, buffers: DataView[]) => this.onReply(content, buffers), this);
    mirror.on('close', () => this.failAll('the model closed before the command answered'), this);
  }

  invoke(name: string, msg: unknown = null, options: InvokeOptions = {}): Promise<[unknown, DataView[]]> {
    const { signal, buffers = [] } = options;
    if (signal?.aborted) {
      return Promise.reject(abortError(name));
    }
    this.count += 1;
    const id = `${this.mirror.clientId}:invoke:${this.count}`;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.waiting.delete(id);
        reject(abortError(name));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => {
        this.waiting.delete(id);
        signal?.removeEventListener('abort', onAbort);
      };
      this.waiting.set(id, {
        resolve: reply => (settle(), resolve(reply)),
        reject: error => (settle(), reject(error))
      });
      try {
        this.mirror.sendCustom(writeInvoke(id, name, msg), buffers);
      } catch (error) {
        this.waiting.get(id)?.reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  private onReply(content: unknown, buffers: DataView[]): void {
    const reply = readInvokeReply(content);
    const waiting = reply === null ? undefined : this.waiting.get(reply.id);
    if (reply === null || waiting === undefined) {
      return; // not a reply; or another page's request, or one given up on
    }
    if (reply.ok) {
      waiting.resolve([reply.msg, buffers]);
    } else {
      const error = new Error(reply.message);
      (error as Error & { code?: unknown }).code = reply.code;
      waiting.reject(error);
    }
  }

  private failAll(why: string): void {
    for (const waiting of [...this.waiting.values()]) {
      waiting.reject(new Error(why));
    }
  }
}

function abortError(name: string): Error {
  return new DOMException(`invoke("${name}") was aborted`, 'AbortError');
}

const invokers = new WeakMap<Mirror, Invoker>();

/** The `invoke` of a model: one request table per mirror, shared by all its views. */
export function invokerOf(mirror: Mirror): Invoke {
  let invoker = invokers.get(mirror);
  if (invoker === undefined) {
    invoker = new Invoker(mirror);
    invokers.set(mirror, invoker);
  }
  const bound = invoker;
  return (name, msg, options) => bound.invoke(name, msg, options);
}
