// postinstall: fetch Electron's binary where the network allows it.
// The project's allowScripts keeps npm from running electron's own install
// script (it fails the whole install where GitHub is out of reach); this runs
// it instead, with a time limit, and a failure only says what it means.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
let electronDir;
try {
  electronDir = dirname(require.resolve('electron/package.json'));
} catch {
  process.exit(0); // production install without dev dependencies
}
if (existsSync(join(electronDir, 'path.txt'))) process.exit(0);
if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
  console.log('qyzmet: ELECTRON_SKIP_BINARY_DOWNLOAD is set; Electron binary not fetched.');
  process.exit(0);
}
const r = spawnSync(process.execPath, [join(electronDir, 'install.js')], {
  stdio: ['ignore', 'ignore', 'pipe'],
  timeout: 180_000,
});
if (r.status === 0 && existsSync(join(electronDir, 'path.txt'))) {
  console.log('qyzmet: Electron binary installed.');
} else {
  console.log(
    'qyzmet: the Electron binary could not be downloaded here; `npm start` will run the app in the browser harness instead.',
  );
}
