/**
 * The part of `bun:sqlite` that test/runtimes/sqlite.bun.ts uses, so that `tsc` checks that file
 * without Bun's type package (Bun itself is a devDependency for its binary only).
 */
declare module 'bun:sqlite' {
  export class Statement {
    run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
    get(...params: unknown[]): unknown;
    all(...params: unknown[]): unknown[];
  }
  export class Database {
    constructor(
      filename?: string,
      options?: { readonly?: boolean; create?: boolean; strict?: boolean; safeIntegers?: boolean },
    );
    prepare(sql: string): Statement;
    exec(sql: string): unknown;
    close(): void;
  }
}
