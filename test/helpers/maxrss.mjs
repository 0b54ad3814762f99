// Preloaded into CLI processes a test spawns (NODE_OPTIONS=--import): prints the process's peak
// resident memory when it exits, so a test can check what a refused input cost.
process.on('exit', () => {
  process.stderr.write(`\nMAXRSS_KB ${process.resourceUsage().maxRSS}\n`);
});
