/**
 * One hub-like server per test file: started before its tests, closed after
 * them, and put back to a clean state before each test, so a fault one test
 * arms (a 404, a damaged byte, a changed ETag) never reaches the next.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startHubServer, type HubServer } from './hub-server';

/** Call at the top of a test file; the returned function gives the running server inside tests. */
export function useHubServer(root: string): () => HubServer {
  let hub: HubServer | undefined;
  const running = (): HubServer => {
    if (!hub) throw new Error('the hub server is used outside a test');
    return hub;
  };
  beforeAll(async () => {
    hub = await startHubServer(root);
  });
  afterAll(() => hub?.close());
  beforeEach(() => {
    const h = running();
    h.log.length = 0;
    h.notFound.clear();
    h.corrupt.clear();
    h.etagOverride.clear();
    h.noEtag = false;
    h.bytesPerSecond = null;
    h.html = false;
    h.truncate.clear();
    h.wrongSha256.clear();
    h.lfsRedirect = false;
    h.api = true;
    h.apiLog.length = 0;
  });
  return running;
}
