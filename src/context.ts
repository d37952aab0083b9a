import type { Loaders } from './loaders/index.js';
import type { Viewer } from './services/viewer.js';

export interface Context {
  viewer: Viewer;
  loaders: Loaders;
}
