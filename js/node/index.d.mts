// ESM view of the same declarations (Node resolves `import` to index.mjs).
export * from '../index.js';
