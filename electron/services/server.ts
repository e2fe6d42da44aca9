// The app's local OpenAI-compatible server as a back-end service: on while settings.server.enabled
// says so, on the port it names, with an API key the app generates on first enable and keeps in
// the SecretStore (never in settings). Its state goes to the UI as `server.status` events; a port
// that is taken leaves it off with an error saying so.
import { randomBytes } from "node:crypto";
import type { ServerStatus } from "../contract.js";
import type { EventBus } from "./event-bus.js";
import { createOpenAiServer, LOOPBACK, type OpenAiServer } from "./openai-server/http-server.js";
import type { CompletionDeps } from "./openai-server/completions.js";
import type { SecretStore } from "./secrets.js";
import type { SettingsStore } from "./settings.js";

export interface LocalServerDeps extends CompletionDeps {
  settings: SettingsStore;
  secrets: SecretStore;
  events: EventBus;
}

export function newApiKey(): string {
  return `sk-exitlane-${randomBytes(24).toString("base64url")}`;
}

export class LocalServer {
  private server: OpenAiServer | null = null;
  private port: number | null = null;
  private error: string | undefined;
  /** Starts and stops run one after another, so the last settings win. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: LocalServerDeps) {}

  status(): ServerStatus {
    const running = this.server !== null;
    return {
      running,
      url: running ? `http://${LOOPBACK}:${this.port}/v1` : null,
      apiKey: running ? this.deps.secrets.get("serverApiKey") : null,
      ...(this.error ? { error: this.error } : {}),
    };
  }

  /** Brings the server in line with settings.server (start, stop, or move to another port). */
  apply(): Promise<ServerStatus> {
    const next = this.queue.catch(() => undefined).then(() => this.reconcile());
    this.queue = next;
    return next;
  }

  /** Answers being written or waiting for the engine, the app's chats included. */
  get answersInLine(): number {
    return this.deps.turns.size;
  }

  /** A fresh key; clients holding the old one are refused from the next request on. */
  newKey(): ServerStatus {
    this.deps.secrets.set("serverApiKey", newApiKey());
    return this.publish();
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.stop();
  }

  private async reconcile(): Promise<ServerStatus> {
    const { enabled, port } = this.deps.settings.get().server;
    if (this.server && (!enabled || this.port !== port)) await this.stop();
    this.error = undefined;
    if (enabled && !this.server) await this.start(port);
    return this.publish();
  }

  private async start(port: number): Promise<void> {
    const { secrets } = this.deps;
    if (!secrets.get("serverApiKey")) secrets.set("serverApiKey", newApiKey());
    const server = createOpenAiServer({ ...this.deps, apiKey: () => secrets.get("serverApiKey") });
    try {
      this.port = await server.listen(port);
      this.server = server;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      this.error =
        code === "EADDRINUSE"
          ? `Port ${port} is in use; choose another port`
          : `The server could not start on port ${port}: ${(error as Error).message}`;
    }
  }

  private async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.port = null;
    await server?.close();
  }

  private publish(): ServerStatus {
    const status = this.status();
    this.deps.events.emit("server.status", status);
    return status;
  }
}
