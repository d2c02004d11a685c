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
  const upper = verbs.map((v) => v.toUpperCase());
  let op: OperatorFunction<Action, ActionOf<V>>;
  if (upper.length === 1) {
    const only = upper[0]!;
    op = filter((a: Action): a is ActionOf<V> => a.verb === only);
  } else {
    const set = new Set<string>(upper);
    op = filter((a: Action): a is ActionOf<V> => set.has(a.verb));
  }
  routes.set(op, upper);
  return op;
}

/** The verbs an `ofVerb` route selects, so the plugin host can check that its plugin owns them. */
const routes = new WeakMap<object, readonly string[]>();

/** The verbs of a route built by {@link ofVerb}; undefined for other operators. */
export function routeVerbs(route: object): readonly string[] | undefined {
  return routes.get(route);
}
