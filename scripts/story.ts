/**
 * The reference story: where its YAML files are, and which of them make up step 1. `npm start`,
 * the local-mesh benchmark and the tests that replay the story all start from here.
 *
 * Ours is examples/story/, written for this project. Alibaba Cloud's published walkthrough, whose
 * files it mirrors (same names, same steps, same answers), is not part of the repository; where a
 * copy sits beside it (`../shared/examples/asm-lanes/`), the tests also run the story on those
 * files unchanged.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const STORY_DIR = fileURLToPath(new URL('../examples/story/', import.meta.url));

const PUBLISHED_STORY_DIR = fileURLToPath(
  new URL('../../shared/examples/asm-lanes/', import.meta.url),
);

/** The published walkthrough's directory, or why the tests that need it are skipped. */
export function publishedStory(): { readonly dir: string } | { readonly skip: string } {
  return existsSync(PUBLISHED_STORY_DIR)
    ? { dir: PUBLISHED_STORY_DIR }
    : {
        skip: `the published ASM walkthrough is not beside the repository (${PUBLISHED_STORY_DIR}); examples/story covers the same steps`,
      };
}

/** Step 1 of the story: the gateways, the instrumentation, mock v1 and lane v1. */
export const STORY_STEP_1: readonly string[] = [
  'gateways.yaml',
  'instrumentation.yaml',
  'mock.yaml',
  'swimlane-v1.yaml',
  'ingress-vs.yaml',
];

/** Every copy of the story the tests check: ours, and the published one or why it is skipped. */
export function storyCopies(): readonly (
  | { readonly name: string; readonly dir: string }
  | { readonly name: string; readonly skip: string }
)[] {
  const name = 'the published walkthrough';
  const published = publishedStory();
  return [
    { name: 'examples/story', dir: STORY_DIR },
    'skip' in published ? { name, skip: published.skip } : { name, dir: published.dir },
  ];
}
