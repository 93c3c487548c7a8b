// The seam where internode attaches: the runtime calls a RemoteRouter for anything addressed to
// a pid of another node, and the router calls back into the node's RemoteInbound for what
// arrives from the wire. The runtime itself knows nothing of sockets.
import type { Pid } from './pid.js';
import type { Ref, RemoteName } from './messages.js';
import type { ExitReason } from './reason.js';

/** Outbound: implemented by the internode layer. */
export interface RemoteRouter {
  /**
   * Send a message to a pid on another node. May throw a TroupeError (for example when the
   * link's bounded queue is full) — the caller learns of it; nothing is dropped silently.
   */
  send(from: Pid | undefined, to: Pid, message: unknown): void;
  /** Send to a locally registered name on another node. */
  sendNamed(from: Pid | undefined, node: string, name: string, message: unknown): void;
  /**
   * An awaitable send (to a pid, or to a name on another node): waits for room in the link's
   * queue. Rejects with ERR_NO_ROUTE when the node is not up, ERR_ABORTED on `signal`. A router
   * without it makes `Node.sendAwait` a plain send.
   */
  sendAwait?(
    from: Pid | undefined,
    to: Pid | RemoteName,
    message: unknown,
    options: { readonly signal?: AbortSignal },
  ): Promise<void>;
  /** `watcher` (local) monitors `target` (remote) under `ref`. */
  monitor(watcher: Pid, target: Pid, ref: Ref): void;
  demonitor(watcher: Pid, target: Pid, ref: Ref): void;
  /**
   * `watcher` (local) monitors whoever holds `name` on `node`; the remote side answers with a
   * `down` for the process it found, or `downNamed` (noproc) when nobody holds the name. A router
   * without it makes such a monitor fire 'noconnection' at once.
   */
  monitorNamed?(watcher: Pid, node: string, name: string, ref: Ref): void;
  demonitorNamed?(watcher: Pid, node: string, name: string, ref: Ref): void;
  /** A local process that a remote `watcher` monitored has exited. */
  down(watcher: Pid, ref: Ref, target: Pid, reason: ExitReason): void;
  /** A remote `watcher` monitored `name` here, and nobody holds it (reason 'noproc'). */
  downNamed?(watcher: Pid, ref: Ref, name: string, reason: ExitReason): void;
  /** `local` linked itself to `remote`; the remote side must record the link too. */
  link(local: Pid, remote: Pid): void;
  unlink(local: Pid, remote: Pid): void;
  /** An exit signal (from `exit()` when `link` is false, or from a dying linked process). */
  exit(from: Pid | undefined, to: Pid, reason: ExitReason, link: boolean): void;
}

/** Inbound: what the internode layer calls on the node when something arrives for it. */
export interface RemoteInbound {
  /** `bytes`: the message's encoded size as it came off the wire (what a byte bound on a mailbox can charge). */
  deliver(from: Pid | undefined, to: Pid, message: unknown, bytes?: number): void;
  deliverNamed(from: Pid | undefined, name: string, message: unknown, bytes?: number): void;
  /** A remote `watcher` asks to monitor local `target`. A dead target answers DOWN noproc at once. */
  monitor(watcher: Pid, target: Pid, ref: Ref): void;
  demonitor(watcher: Pid, target: Pid, ref: Ref): void;
  /** A remote `watcher` asks to monitor whoever holds local `name`; nobody holding it answers noproc at once. */
  monitorNamed(watcher: Pid, name: string, ref: Ref): void;
  demonitorNamed(watcher: Pid, name: string, ref: Ref): void;
  /** A DOWN for a local watcher of a remote pid. */
  down(watcher: Pid, ref: Ref, target: Pid, reason: ExitReason): void;
  /** A DOWN for a local watcher of a name on `node` that nobody held there (or whose node is gone). */
  downNamed(watcher: Pid, ref: Ref, node: string, name: string, reason: ExitReason): void;
  link(remote: Pid, local: Pid): void;
  unlink(remote: Pid, local: Pid): void;
  exit(from: Pid | undefined, to: Pid, reason: ExitReason, link: boolean): void;
  /** The connection to `node` is gone: monitors fire 'noconnection', links too. */
  nodeDown(node: string): void;
}
