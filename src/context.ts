import type { WebhookPolicy } from './feed/webhooks.js';
import type { InputLimits } from './graphql/input-guard.js';
import type { Loaders } from './loaders/index.js';
import type { Viewer } from './services/viewer.js';

export interface Context {
  viewer: Viewer;
  loaders: Loaders;
  /** What every argument is held to (graphql/input-guard.ts); the defaults when absent. */
  inputLimits?: InputLimits;
  /** Which webhook targets may be chosen (RELATE_WEBHOOK_ALLOW_PRIVATE); public ones only when absent. */
  webhookPolicy?: WebhookPolicy;
}
