// Preloaded into a spawned CLI (node --import): prints the process's peak RSS at exit, for tests
// that check a refused request never allocated.
process.on('exit', () => process.stderr.write(`\nmaxRSS-kB ${process.resourceUsage().maxRSS}\n`));
