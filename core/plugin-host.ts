/**
 * Checks a server's plugin set when it is created: unique names, one owner per
 * verb, kernel verbs reserved, dependencies present. Errors name both plugins.
 */
import { ParleyError } from './errors.js';
import { KERNEL_VERBS } from './kernel.js';
import type { Plugin } from './plugin.js';

export function validatePlugins(plugins: readonly Plugin[]): void {
  const names = new Set<string>();
  const owners = new Map<string, string>();
  for (const p of plugins) {
    if (names.has(p.name)) throw new ParleyError('PARLEY_ERR_DUPLICATE_PLUGIN', p.name);
    names.add(p.name);
    for (const verb of p.verbs) {
      if (KERNEL_VERBS.includes(verb)) throw new ParleyError('PARLEY_ERR_RESERVED_VERB', p.name, verb);
      const owner = owners.get(verb);
      if (owner !== undefined) throw new ParleyError('PARLEY_ERR_VERB_CONFLICT', verb, owner, p.name);
      owners.set(verb, p.name);
    }
  }
  for (const p of plugins) {
    for (const dep of p.dependencies) {
      if (!names.has(dep)) throw new ParleyError('PARLEY_ERR_MISSING_DEPENDENCY', p.name, dep);
    }
  }
}
