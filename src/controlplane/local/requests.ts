/**
 * The control API's request bodies, checked before they reach the daemon: the CLI always sends
 * them right, but the API is documented, and a script that gets a field wrong deserves a 400 that
 * names the field — not a 500 from deep inside the loader.
 */

import { RELEASE_COMMANDS } from '../release/machine.ts';
import type {
  ApplyRequest,
  DeleteRequest,
  DeleteTarget,
  ExplainRequest,
  OverrideSignRequest,
  ReadyRequest,
  ReleaseCommandName,
  SourceText,
} from './protocol.ts';
import { RequestError } from './request-error.ts';

type Json = Record<string, unknown>;

function object(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new RequestError(400, `${what} must be a JSON object`);
  return value as Json;
}

function optionalString(body: Json, field: string, what: string): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new RequestError(400, `${what}.${field} must be a string`);
  return value;
}

function sources(value: unknown, what: string): SourceText[] {
  if (!Array.isArray(value))
    throw new RequestError(400, `${what} must be an array of {file, text}`);
  return value.map((item, i) => {
    const s = object(item, `${what}[${i}]`);
    if (typeof s.file !== 'string' || typeof s.text !== 'string') {
      throw new RequestError(400, `${what}[${i}] needs a string file and a string text`);
    }
    const dir = optionalString(s, 'dir', `${what}[${i}]`);
    return { file: s.file, text: s.text, ...(dir !== undefined ? { dir } : {}) };
  });
}

export function applyRequest(value: unknown): ApplyRequest {
  const body = object(value, 'the apply request');
  const cluster = optionalString(body, 'cluster', 'the apply request');
  return {
    ...(cluster !== undefined ? { cluster } : {}),
    sources: sources(body.sources, 'sources'),
  };
}

export function deleteRequest(value: unknown): DeleteRequest {
  const body = object(value, 'the delete request');
  const cluster = optionalString(body, 'cluster', 'the delete request');
  if (body.sources === undefined && body.targets === undefined)
    throw new RequestError(400, 'the delete request needs sources or targets');
  if (body.force !== undefined && typeof body.force !== 'boolean')
    throw new RequestError(400, 'force in the delete request must be true or false');
  const force = body.force === true;
  let targets: DeleteTarget[] | undefined;
  if (body.targets !== undefined) {
    if (!Array.isArray(body.targets))
      throw new RequestError(400, 'targets must be an array of {kind, names, namespace?}');
    targets = body.targets.map((item, i) => {
      const t = object(item, `targets[${i}]`);
      if (
        typeof t.kind !== 'string' ||
        !Array.isArray(t.names) ||
        !t.names.every((n) => typeof n === 'string')
      ) {
        throw new RequestError(
          400,
          `targets[${i}] needs a string kind and names as an array of strings`,
        );
      }
      const namespace = optionalString(t, 'namespace', `targets[${i}]`);
      return {
        kind: t.kind,
        names: t.names as string[],
        ...(namespace !== undefined ? { namespace } : {}),
      };
    });
  }
  return {
    ...(cluster !== undefined ? { cluster } : {}),
    ...(body.sources !== undefined ? { sources: sources(body.sources, 'sources') } : {}),
    ...(targets ? { targets } : {}),
    ...(force ? { force } : {}),
  };
}

export function explainRequest(value: unknown): ExplainRequest {
  const body = object(value, 'the explain request');
  const what = 'the explain request';
  const headers = body.headers === undefined ? undefined : object(body.headers, `${what}.headers`);
  if (headers && !Object.values(headers).every((v) => typeof v === 'string'))
    throw new RequestError(400, `${what}.headers must map names to strings`);
  if (body.port !== undefined && (typeof body.port !== 'number' || !Number.isInteger(body.port)))
    throw new RequestError(400, `${what}.port must be an integer`);
  const fields = ['gateway', 'from', 'to', 'method', 'path', 'branch', 'override'] as const;
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = optionalString(body, f, what);
    if (v !== undefined) out[f] = v;
  }
  if (body.port !== undefined) out.port = body.port;
  if (headers) out.headers = headers;
  return out as ExplainRequest;
}

export function releaseCommand(value: string): ReleaseCommandName {
  const command = RELEASE_COMMANDS.find((c) => c === value);
  if (command === undefined)
    throw new RequestError(
      404,
      `no release command ${JSON.stringify(value)}; commands: ${RELEASE_COMMANDS.join(', ')}`,
    );
  return command;
}

export function readyRequest(value: unknown): ReadyRequest {
  const body = object(value, 'the ready request');
  const instances = body.instances;
  if (!Array.isArray(instances) || !instances.every((i) => typeof i === 'string'))
    throw new RequestError(400, 'the ready request.instances must be a list of instance keys');
  const timeoutMs = body.timeoutMs;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0)
    throw new RequestError(400, 'the ready request.timeoutMs must be a number of milliseconds ≥ 0');
  return { instances, timeoutMs };
}

export function overrideSignRequest(value: unknown): OverrideSignRequest {
  const what = 'the override sign request';
  const body = object(value, what);
  const pairs = optionalString(body, 'pairs', what);
  if (pairs === undefined) throw new RequestError(400, `${what} needs pairs: "SERVICE=LANE, …"`);
  const ttl = optionalString(body, 'ttl', what);
  return { pairs, ...(ttl !== undefined ? { ttl } : {}) };
}
