import type { LinkStorage } from "./types.js";

/** Keeps the session in memory only (tests, short-lived agents). */
export class MemoryStorage implements LinkStorage {
  readonly location = "memory";
  private readonly values = new Map<string, string>();

  async get(key: string): Promise<string | null> {
    return this.values.get(key) ?? null;
  }

  async set(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }

  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }
}
