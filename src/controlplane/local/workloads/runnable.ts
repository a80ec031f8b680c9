/**
 * What local mode can run (SPEC §6): a container with a `command` runs that command as a local
 * process; the Alibaba demo image `…/asm-mock:*` runs the built-in mock service; anything else is
 * refused at apply time with a message that says how to run it locally.
 */

import type { ContainerSpec, DeploymentSpec } from '../../../config/kinds/kube/index.ts';
import { issueAt, type Resource } from '../../../config/resource/resource.ts';
import type { Issue } from '../../../config/source/issues.ts';

export type Runner =
  | { readonly kind: 'mock' }
  | {
      readonly kind: 'command';
      readonly command: readonly string[];
      readonly args: readonly string[];
    };

/** `registry…/acs/asm-mock:v0.1-java`, `asm-mock`, `asm-mock@sha256:…`. */
const ASM_MOCK = /(^|\/)asm-mock(:[^/@]*)?(@[\w:]+)?$/;

export function runnerOf(container: ContainerSpec): Runner | string {
  // As in Kubernetes, an empty command means the image's own: only the mock image has one here.
  if (container.command !== undefined && container.command.length > 0) {
    if (container.command[0] === '')
      return 'command[0] is empty; it must name the program to run, for example command: ["node", "server.js"]';
    return { kind: 'command', command: container.command, args: container.args ?? [] };
  }
  if (container.image && ASM_MOCK.test(container.image)) return { kind: 'mock' };
  if (container.image === undefined) {
    return 'has neither an image nor a command; add command: [...] to run it as a local process';
  }
  return `image ${JSON.stringify(container.image)} cannot run locally: lanes runs a container's command as a local process, and the asm-mock image as its built-in mock service; add command: [...] (for example command: ["node", "server.js"] with workingDir) to run this one on this machine`;
}

export function isDeployment(r: Resource): r is Resource<string, DeploymentSpec> {
  return r.kind === 'Deployment' && r.id.group === 'apps';
}

/** Problems that stop local mode from running these Deployments: errors, so the apply is refused. */
export function checkRunnable(resources: readonly Resource[]): Issue[] {
  const issues: Issue[] = [];
  for (const r of resources) {
    if (!isDeployment(r)) continue;
    const containers = r.spec.template.containers;
    const report = (path: string, message: string) => issues.push(issueAt(r, path, message));
    if (containers.length > 1) {
      report(
        'spec.template.spec.containers',
        `local mode runs one container per instance, this pod has ${containers.length}; run the others as Deployments of their own`,
      );
      continue;
    }
    const runner = runnerOf(containers[0]!);
    if (typeof runner === 'string') report('spec.template.spec.containers[0]', runner);
  }
  return issues;
}
