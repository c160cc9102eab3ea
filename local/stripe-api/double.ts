/**
 * The Stripe API double as a server: `StripeDouble.start()` in tests (tests/support re-exports it),
 * `npm run stripe-double` for local trials (local/stripe-double.ts). Its state and request handling
 * are in ./core.ts, its endpoints in ./routes.ts. Not Stripe, and never deployed.
 */
import { createServer, type Server } from 'node:http';
import { DoubleCore } from './core';
import { defaultRoutes } from './routes';

export type { DoubleRequest, Fault, Json, RouteDef, StripeCall } from './core';
export { newId } from './core';
export { StripeApiError } from './errors';

export class StripeDouble extends DoubleCore {
  private server!: Server;
  url = '';

  constructor(apiKey?: string) {
    super(apiKey);
    for (const route of defaultRoutes) this.route(route);
  }

  static async start(apiKey?: string, port = 0): Promise<StripeDouble> {
    const double = new StripeDouble(apiKey);
    double.server = createServer((req, res) => void double.serve(req, res));
    await new Promise<void>((resolve) => double.server.listen(port, '127.0.0.1', resolve));
    double.url = `http://127.0.0.1:${(double.server.address() as { port: number }).port}`;
    return double;
  }

  async close(): Promise<void> {
    await this.deliveriesSettled();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
