// Reaching pods from the test process through the API server (what `kubectl port-forward` does), so
// the same code works for a local cluster, k3s in Docker and EKS: nothing needs a reachable node.
//
//   forwardLocalPort  a 127.0.0.1 listener; each accepted connection becomes one port-forward stream
//                     to the pod the resolver names at that moment (a restarted pod is found again)
//   dialPod           one stream to a pod's port as a pair of Node streams
import { inspect } from 'node:util';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { PortForward, type KubeConfig } from '@kubernetes/client-node';

export interface PodPort {
  namespace: string;
  pod: string;
  port: number;
}

export interface LocalForward {
  /** The local port on 127.0.0.1. */
  readonly port: number;
  close(): Promise<void>;
}

export async function forwardLocalPort(kubeConfig: KubeConfig, resolve: () => Promise<PodPort>, onError?: (line: string) => void): Promise<LocalForward> {
  const forward = new PortForward(kubeConfig, true);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    void (async () => {
      try {
        const target = await resolve();
        const ws = await forward.portForward(target.namespace, target.pod, [target.port], socket, null, socket);
        const webSocket = typeof ws === 'function' ? ws() : ws;
        webSocket?.on('close', () => socket.end());
        webSocket?.on('error', () => socket.destroy());
        socket.on('close', () => webSocket?.close());
      } catch (err) {
        onError?.(`port-forward failed: ${describeError(err)}`);
        socket.destroy();
      }
    })();
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * The client's WebSocket rejects with an ErrorEvent, not an Error: its message (or the event itself,
 * shown shallowly) rather than "[object Object]".
 */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string' && (err as { message: string }).message) return (err as { message: string }).message;
  return typeof err === 'object' ? inspect(err, { depth: 1, breakLength: Infinity }) : String(err);
}

export interface PodStream {
  /** Bytes from the pod. */
  readonly fromPod: PassThrough;
  /** Write here to send bytes to the pod; end() closes the stream. */
  readonly toPod: PassThrough;
  /** Resolves when the stream is closed, from either side. */
  readonly closed: Promise<void>;
}

export async function dialPod(kubeConfig: KubeConfig, target: PodPort): Promise<PodStream> {
  const fromPod = new PassThrough();
  const toPod = new PassThrough();
  const output = new Writable({
    write(chunk, _encoding, done) {
      fromPod.write(chunk, done);
    },
  });
  const ws = await new PortForward(kubeConfig, true).portForward(target.namespace, target.pod, [target.port], output, null, toPod);
  const webSocket = typeof ws === 'function' ? ws() : ws;
  const closed = new Promise<void>((resolve) => {
    if (!webSocket) return resolve();
    webSocket.on('close', () => {
      fromPod.end();
      resolve();
    });
  });
  return { fromPod, toPod, closed };
}
