// What scripts/build.mjs does for the JS every entry shares: js/shared/errors.mjs is an ES
// module (the web entries import it, and bundlers take it as it is); the Node entry is
// CommonJS (Node 18 cannot `require` an ES module) and requires pkg/node/errors.cjs, the copy
// written here. The copy is the module's text with each `export ` taken out and a
// `module.exports` of the exported names added; anything else an ES module may say (an import,
// `export {…}`, `export default`, `import.meta`) is refused, so the two cannot differ in meaning.
// Written on every build (it takes no time), whatever the wasm builds' stamps say.

import fs from 'node:fs';
import path from 'node:path';
import { ROOT, log } from './lib.mjs';

/** Each shared ES module, and the CommonJS copy the Node entry requires. */
export const SHARED = [{ source: 'js/shared/errors.mjs', copy: 'pkg/node/errors.cjs' }];

const DECLARATION = /^export (?:async function\*?|function\*?|class|const|let) ([A-Za-z_$][\w$]*)/;
/** Imports, which a CommonJS copy could not make as the module does. */
const IMPORT = /^import\b|\bimport(\.meta\b|\()/m;

/** The CommonJS text of ES module `text` (named `name` in errors and the header). */
export function toCommonJs(text, name) {
  const refuse = (what) => {
    throw new Error(`${name}: no CommonJS copy can be made of ${what}: keep to top-level \`export\` declarations and no imports`);
  };
  if (IMPORT.test(text)) refuse(`\`${IMPORT.exec(text)[0]}\``);
  const names = [];
  const body = text
    .split('\n')
    .map((line) => {
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
