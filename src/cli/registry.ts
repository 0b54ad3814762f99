/** The CLI's subcommands: each module exports one Subcommand; main.ts lists them. */
export interface Subcommand {
  name: string;
  summary: string;
  help: string;
  run(argv: string[]): Promise<void>;
}
