/**
 * The controller's Kubernetes I/O, on @kubernetes/client-node: informers (list, then watch from
 * the list's resourceVersion, bookmarks, re-list on 410 Gone), server-side apply with field
 * manager `lanes`, writes of users' objects with a resourceVersion precondition, deletes, status
 * subresources, Events and the leader Lease. Everything above this file is plain data.
 */
import {
  ApiException,
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1Lease,
} from '@kubernetes/client-node';
import type { Lease, LeaseApi } from './leader.ts';
import type { KubeObj, ObjectRef } from './objects.ts';

export const FIELD_MANAGER = 'lanes';

export interface WatchedKind {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly labelSelector?: string;
}

export interface CacheView {
  list(): readonly KubeObj[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

function notFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

function groupVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export class KubeApi {
  readonly #kc: KubeConfig;
  readonly #objects: KubernetesObjectApi;
  readonly #custom: CustomObjectsApi;
  readonly #core: CoreV1Api;
  readonly #coordination: CoordinationV1Api;
  readonly #crds: ApiextensionsV1Api;

  constructor(kc: KubeConfig) {
    this.#kc = kc;
    this.#objects = KubernetesObjectApi.makeApiClient(kc);
    this.#custom = kc.makeApiClient(CustomObjectsApi);
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#coordination = kc.makeApiClient(CoordinationV1Api);
    this.#crds = kc.makeApiClient(ApiextensionsV1Api);
  }

  /** A list+watch cache of one kind; `onChange` on every add, update, delete (and re-list). */
  informer(w: WatchedKind, onChange: () => void, onError: (error: unknown) => void): CacheView {
    const { group, version } = groupVersion(w.apiVersion);
    const path =
      group === '' ? `/api/${version}/${w.plural}` : `/apis/${group}/${version}/${w.plural}`;
    const list = () =>
      this.#objects.list(
        w.apiVersion,
        w.kind,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        w.labelSelector,
      );
    const informer = makeInformer<KubernetesObject>(this.#kc, path, list, w.labelSelector);
    informer.on('change', onChange);
    informer.on('error', (error: unknown) => {
      onError(error);
      // client-node leaves a failed informer stopped: start it again (its documented pattern).
      setTimeout(() => void informer.start().catch(onError), 1000).unref?.();
    });
    return {
      // List items come without apiVersion and kind; the cache's kind is theirs.
      list: () =>
        (informer.list() as unknown as KubeObj[]).map((o) =>
          o.apiVersion && o.kind ? o : { ...o, apiVersion: w.apiVersion, kind: w.kind },
        ),
      start: () => informer.start(),
      stop: () => informer.stop(),
    };
  }

  async hasCrd(name: string): Promise<boolean> {
    try {
      await this.#crds.readCustomResourceDefinition({ name });
      return true;
    } catch (error) {
      if (notFound(error)) return false;
      throw error;
    }
  }

  /** Server-side apply, forced: lanes is the sole manager of the objects it owns. */
  async apply(o: KubeObj): Promise<void> {
    await this.#objects.patch(
      o as unknown as KubernetesObject,
      undefined,
      undefined,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
  }

  /** A user's object written back; the resourceVersion in `o` makes a concurrent change fail. */
  async replaceObject(o: KubeObj): Promise<void> {
    await this.#objects.replace(
      o as unknown as KubernetesObject,
      undefined,
      undefined,
      FIELD_MANAGER,
    );
  }

  async remove(ref: ObjectRef): Promise<void> {
    try {
      await this.#objects.delete({
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
      });
    } catch (error) {
      if (!notFound(error)) throw error;
    }
  }

  async applyStatus(ref: ObjectRef, plural: string, status: unknown): Promise<void> {
    const { group, version } = groupVersion(ref.apiVersion);
    const body = {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name },
      status,
    };
    const options = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
    if (ref.namespace === '') {
      await this.#custom.patchClusterCustomObjectStatus(
        { group, version, plural, name: ref.name, body, fieldManager: FIELD_MANAGER, force: true },
        options,
      );
    } else {
      await this.#custom.patchNamespacedCustomObjectStatus(
        {
          group,
          version,
          plural,
          namespace: ref.namespace,
          name: ref.name,
          body,
          fieldManager: FIELD_MANAGER,
          force: true,
        },
        options,
      );
    }
  }

  async event(
    namespace: string,
    regarding: ObjectRef,
    uid: string | undefined,
    type: 'Warning' | 'Normal',
    reason: string,
    message: string,
    now: Date,
  ): Promise<void> {
    const stamp = now.toISOString();
    await this.#core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${regarding.name}.`, namespace },
        involvedObject: {
          apiVersion: regarding.apiVersion,
          kind: regarding.kind,
          name: regarding.name,
          ...(regarding.namespace ? { namespace: regarding.namespace } : {}),
          ...(uid ? { uid } : {}),
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: 'lanes-controller' },
        firstTimestamp: now,
        lastTimestamp: now,
        eventTime: stamp as unknown as Date,
        reportingComponent: 'lanes.dev/controller',
        reportingInstance: 'lanes-controller',
        action: 'Reconcile',
        count: 1,
      },
    });
  }

  /** The Lease API for leader election. */
  readonly leases: LeaseApi = {
    get: async (namespace, name) => {
      try {
        return toLease(await this.#coordination.readNamespacedLease({ name, namespace }));
      } catch (error) {
        if (notFound(error)) return undefined;
        throw error;
      }
    },
    create: async (lease) =>
      toLease(
        await this.#coordination.createNamespacedLease({
          namespace: lease.metadata.namespace,
          body: fromLease(lease),
        }),
      ),
    replace: async (lease) =>
      toLease(
        await this.#coordination.replaceNamespacedLease({
          name: lease.metadata.name,
          namespace: lease.metadata.namespace,
          body: fromLease(lease),
        }),
      ),
  };
}

function toLease(l: V1Lease): Lease {
  const s = l.spec ?? {};
  return {
    metadata: {
      name: l.metadata?.name ?? '',
      namespace: l.metadata?.namespace ?? '',
      ...(l.metadata?.resourceVersion ? { resourceVersion: l.metadata.resourceVersion } : {}),
    },
    spec: {
      ...(s.holderIdentity !== undefined ? { holderIdentity: s.holderIdentity } : {}),
      ...(s.leaseDurationSeconds !== undefined
        ? { leaseDurationSeconds: s.leaseDurationSeconds }
        : {}),
      ...(s.acquireTime
        ? { acquireTime: new Date(s.acquireTime as unknown as string).toISOString() }
        : {}),
      ...(s.renewTime
        ? { renewTime: new Date(s.renewTime as unknown as string).toISOString() }
        : {}),
      ...(s.leaseTransitions !== undefined ? { leaseTransitions: s.leaseTransitions } : {}),
    },
  };
}

function fromLease(l: Lease): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { ...l.metadata },
    spec: {
      ...l.spec,
      ...(l.spec.acquireTime ? { acquireTime: new Date(l.spec.acquireTime) } : {}),
      ...(l.spec.renewTime ? { renewTime: new Date(l.spec.renewTime) } : {}),
    } as V1Lease['spec'],
  };
}
