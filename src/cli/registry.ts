/** The CLI's subcommands: each module exports one Subcommand; main.ts lists them. */
export interface Subcommand {
  name: string;
  summary: string;
  help: string;
  /** Resolves with the exit status (void: 0). */
  run(argv: string[]): Promise<void | number>;
}
