/** Marks the end of an exhaustive switch: adding a union member without a case fails type-checking. */
export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
