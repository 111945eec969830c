import type { Template } from 'aws-cdk-lib/assertions';

/** A CloudFormation resource as the assertions library returns it. */
export interface Resource {
  Type: string;
  Properties?: Record<string, unknown> & {
    Layers?: unknown[];
    Environment?: { Variables?: Record<string, unknown> };
  };
}

/** The one resource of `type` whose logical id starts with `prefix`; throws when there is not exactly one. */
export function resourceByPrefix(template: Template, type: string, prefix: string): Resource {
  const matches = Object.entries(template.findResources(type)).filter(([id]) =>
    id.startsWith(prefix),
  );
  if (matches.length !== 1) {
    throw new Error(`expected one ${type} with id ${prefix}*, found ${matches.length}`);
  }
  return matches[0]?.[1] as Resource;
}

/** The environment variables of a function resource ({} when none). */
export function envOf(fn: Resource): Record<string, unknown> {
  return fn.Properties?.Environment?.Variables ?? {};
}

/** The logical id of the only resource of `type`. */
export function onlyLogicalId(template: Template, type: string): string {
  const ids = Object.keys(template.findResources(type));
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0] as string;
}
