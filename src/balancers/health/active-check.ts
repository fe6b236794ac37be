import type { EndpointView } from '../../core/endpoint.js';
import type { ActiveCheckOptions } from './health-options.js';

/**
 * Sends one `GET` health check over the endpoint's own pool; resolves true for a 2xx or 3xx
 * answer within the time limit, false for anything else. Never rejects.
 */
export async function checkEndpoint(
  endpoint: EndpointView,
  check: Required<ActiveCheckOptions>,
): Promise<boolean> {
  try {
    const response = await endpoint.pool.request({
      method: 'GET',
      path: check.path,
      headersTimeout: check.timeoutMs,
      bodyTimeout: check.timeoutMs,
    });
    await response.body.dump();
    return response.statusCode < 400;
  } catch {
    return false;
  }
}
