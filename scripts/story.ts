/**
 * The reference story (`../shared/examples/asm-lanes/`, beside this repository): where its YAML
 * files are, and which of them make up step 1. `npm start`, the local-mesh benchmark and the
 * tests that replay the story all start from here.
 */
import { fileURLToPath } from 'node:url';

export const STORY_DIR = fileURLToPath(
  new URL('../../shared/examples/asm-lanes/', import.meta.url),
);

/** Step 1 of STORY.md: the gateways, the instrumentation, mock v1 and lane v1. */
export const STORY_STEP_1: readonly string[] = [
  'gateways.yaml',
  'instrumentation.yaml',
  'mock.yaml',
  'swimlane-v1.yaml',
  'ingress-vs.yaml',
];
