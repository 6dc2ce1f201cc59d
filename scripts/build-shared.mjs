// What scripts/build.mjs does for the JS every entry shares: the modules of js/shared are ES
// modules (the web entries import them, and bundlers take them as they are); the Node entry is
// CommonJS (Node 18 cannot `require` an ES module) and requires their copies in pkg/node,
// written here. A copy is the module's text with each `export ` taken out, a `module.exports`
// of the exported names added, and each one-line `import { names } from './other.mjs'` of
// another shared module made the `require` of that module's copy; anything else an ES module
// may say (other imports, `export {…}`, `export default`, `import.meta`) is refused, so a
// module and its copy cannot differ in meaning.
// Written on every build (it takes no time), whatever the wasm builds' stamps say.

import fs from 'node:fs';
import path from 'node:path';
import { ROOT, log } from './lib.mjs';

/** Each shared ES module, and the CommonJS copy the Node entry requires. */
export const SHARED = [
  { source: 'js/shared/errors.mjs', copy: 'pkg/node/errors.cjs' },
  { source: 'js/shared/client-base.mjs', copy: 'pkg/node/client-base.cjs' },
];

const DECLARATION = /^export (?:async function\*?|function\*?|class|const|let) ([A-Za-z_$][\w$]*)/;
/** An import of another shared module, by name: its copy is required the same way. */
const SHARED_IMPORT = /^import \{ ([\w$]+(?:, [\w$]+)*) \} from '\.\/([\w-]+)\.mjs';$/;
/** Any other import, which a CommonJS copy could not make as the module does. */
const IMPORT = /^import\b|\bimport(\.meta\b|\()/m;

/** The CommonJS text of ES module `text` (named `name` in errors and the header). */
export function toCommonJs(text, name) {
  const refuse = (what) => {
    throw new Error(`${name}: no CommonJS copy can be made of ${what}: keep to top-level \`export\` declarations and imports of other shared modules by name`);
  };
  const names = [];
  const body = text
    .split('\n')
    .map((line) => {
      const imported = SHARED_IMPORT.exec(line);
      if (imported) {
        const copied = SHARED.some(({ source }) => source === `js/shared/${imported[2]}.mjs`);
        if (!copied) refuse(`an import of ./${imported[2]}.mjs, which has no copy (add it to SHARED)`);
        return `const { ${imported[1]} } = require('./${imported[2]}.cjs');`;
      }
      if (IMPORT.test(line)) refuse(`\`${IMPORT.exec(line)[0]}\``);
      if (!line.startsWith('export')) return line;
      const found = DECLARATION.exec(line) ?? refuse(`\`${line}\``);
      names.push(found[1]);
      return line.slice('export '.length);
    })
    .join('\n');
  if (!names.length) throw new Error(`${name}: exports nothing`);
  return `'use strict';\n// Generated from ${name} by scripts/build-shared.mjs: edit that file, not this one.\n\n${body}\nmodule.exports = { ${names.join(', ')} };\n`;
}

/** Writes every CommonJS copy. */
export function emitCommonJsCopies() {
  for (const { source, copy } of SHARED) {
    const text = toCommonJs(fs.readFileSync(path.join(ROOT, source), 'utf8'), source);
    fs.mkdirSync(path.dirname(path.join(ROOT, copy)), { recursive: true });
    fs.writeFileSync(path.join(ROOT, copy), text);
    log(`build: ${copy}: the CommonJS copy of ${source}`);
  }
}
