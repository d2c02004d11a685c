/**
 * Actions as plugins receive them, and `ofVerb`, the routing operator
 * (after redux-observable's `ofType`).
 */
import { filter, type OperatorFunction } from 'rxjs';
import type { CommandMap, CustomCommand, Verb } from './actions.js';
import type { Session } from './session.js';

export type ActionMap = { [V in Verb]: CommandMap[V] & { readonly session: Session } };
/** A parsed protocol command with the session that sent it. */
export type ProtocolAction = ActionMap[Verb];
/** A command of a verb a user plugin added. */
export type CustomAction = CustomCommand & { readonly session: Session };
export type Action = ProtocolAction | CustomAction;

/** The action type for a verb: typed for protocol verbs, generic for added verbs. */
export type ActionOf<V extends string> = V extends Verb ? ActionMap[V] : CustomAction;

/**
 * Keeps the actions of the given verbs, narrowing their type.
 * @example actions$.pipe(ofVerb('JOIN', 'LEAVE'))
 */
export function ofVerb<V extends string>(...verbs: [V, ...V[]]): OperatorFunction<Action, ActionOf<V>> {
  if (verbs.length === 1) {
    const only = verbs[0].toUpperCase();
    return filter((a: Action): a is ActionOf<V> => a.verb === only);
  }
  const set = new Set<string>(verbs.map((v) => v.toUpperCase()));
  return filter((a: Action): a is ActionOf<V> => set.has(a.verb));
}
