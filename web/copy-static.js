// Build step after `tsc -p web/tsconfig.json`: the page's HTML beside its script, and
// a package.json marking dist/web as ES modules (the root package is CommonJS).
const fs = require('node:fs');
const path = require('node:path');
const out = path.join(__dirname, '..', 'dist', 'web');
fs.cpSync(path.join(__dirname, 'page', 'index.html'), path.join(out, 'page', 'index.html'));
fs.writeFileSync(path.join(out, 'package.json'), '{ "type": "module" }\n');
