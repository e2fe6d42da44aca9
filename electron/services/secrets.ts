// Secrets (the hub access token, the local server's API key) kept apart from the plain settings:
// encrypted with the OS keychain through Electron's safeStorage, which main.ts injects as the
// cipher. Where there is no keychain (the web host, the CLI, a Linux desktop without a secret
// service), secrets live in memory for this run only and `canStore` says so; nothing is ever
// written in clear.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

/** The part of Electron's safeStorage this needs. */
export interface SecretCipher {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

export type SecretName = "hubToken" | "serverApiKey";

export class SecretStore {
  private readonly memory = new Map<SecretName, string>();

  constructor(
    /** Folder for the encrypted files (the user-data folder). */
    private readonly dir: string,
    private readonly cipher?: SecretCipher,
  ) {}

  /** Whether secrets survive a restart (they are encrypted by the OS keychain). */
  get canStore(): boolean {
    return !!this.cipher?.isEncryptionAvailable();
  }

  get(name: SecretName): string | null {
    const held = this.memory.get(name);
    if (held !== undefined) return held;
    if (!this.canStore) return null;
    try {
      const value = this.cipher!.decryptString(readFileSync(this.file(name)));
      this.memory.set(name, value);
      return value;
    } catch {
      return null; // Absent, or encrypted by another keychain: as if never stored.
    }
  }

  /** Stores (or, with null, forgets) a secret; encrypted on disk where the keychain allows. */
  set(name: SecretName, value: string | null): void {
    if (value === null) this.memory.delete(name);
    else this.memory.set(name, value);
    if (!this.canStore) return;
    const file = this.file(name);
    mkdirSync(this.dir, { recursive: true });
    if (value === null) return rmSync(file, { force: true });
    writeFileSync(`${file}.tmp`, this.cipher!.encryptString(value));
    renameSync(`${file}.tmp`, file);
  }

  private file(name: SecretName): string {
    return path.join(this.dir, `${name}.secret`);
  }
}
