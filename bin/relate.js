#!/usr/bin/env node
// The `relate` command: runs the TypeScript CLI through tsx (a dependency), no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/index.ts');
