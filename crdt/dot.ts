// Dots and actors. A dot (actor, counter) names one add event. The actor is a node
// *incarnation*, `node#incarnation`: a restarted node is a new actor whose counters start at 1
// again, so it can never reuse a dot it minted in an earlier life (it does not remember them),
// and "drop the old incarnation's entries" is a test on the actor alone. The host must give
// every start of a node a strictly larger incarnation (the runtime does).
import { CrdtMalformedError } from './errors.js';
import { flatString } from './hash.js';
import { MAX_ACTOR_LENGTH } from './limits.js';

/** `node#incarnation`. Node names cannot hold '#', so the form is unambiguous. */
export type Actor = string;

export interface Dot {
  readonly actor: Actor;
  readonly counter: number;
}

const interned = new Map<string, Actor>();

/** One shared string per actor, so entries hold a pointer, not a copy. */
export function internActor(actor: string): Actor {
  const known = interned.get(actor);
  if (known !== undefined) return known;
  const flat = flatString(actor);
  interned.set(flat, flat);
  return flat;
}

export function actorOf(node: string, incarnation: number): Actor {
  return internActor(`${node}#${incarnation}`);
}

export interface ActorParts {
  readonly node: string;
  readonly incarnation: number;
}

export function parseActor(actor: string): ActorParts {
  const at = actor.lastIndexOf('#');
  const incText = actor.slice(at + 1);
  if (at <= 0 || actor.length > MAX_ACTOR_LENGTH || !/^\d{1,16}$/.test(incText)) {
    throw new CrdtMalformedError(`bad actor ${JSON.stringify(actor)}`);
  }
  return { node: actor.slice(0, at), incarnation: Number(incText) };
}

export function isCounter(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}
