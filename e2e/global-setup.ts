/** One harness for the whole e2e run; its address and secret reach the tests through the environment. */
import { startHarness } from './harness';

export default async function globalSetup() {
  const harness = await startHarness(['--demo', '3000']);
  process.env.QYZMET_E2E_URL = harness.url;
  process.env.QYZMET_E2E_OPEN_URL = harness.openUrl;
  process.env.QYZMET_E2E_SECRET = harness.secret;
  process.env.QYZMET_E2E_DATA_DIR = harness.dataDir;
  return async () => {
    await harness.stop();
  };
}
