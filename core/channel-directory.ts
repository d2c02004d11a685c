/**
 * The seam between the kernel (and other plugins) and whichever plugin keeps
 * channels. The channels plugin provides it; `server.broadcast` and the voip
 * plugin's group voice consume it.
 */
import type { InjectionToken } from 'tsyringe';
import type { Observable } from 'rxjs';
import type { Session } from './session.js';

export interface ChannelDirectory {
  /** The channel's name as its creator spelled it, or undefined when it does not exist. */
  spelling(channel: string): string | undefined;
  /** Members of a channel (any case); undefined when it does not exist. */
  members(channel: string): ReadonlySet<Session> | undefined;
  /** The same members in join order, for fan-out loops; undefined when the channel does not exist. */
  memberList(channel: string): readonly Session[] | undefined;
  isMember(session: Session, channel: string): boolean;
  /** A member left a channel (LEAVE, disconnect, timeout); emitted after the member is removed. */
  readonly left$: Observable<{ session: Session; channel: string }>;
}

export const CHANNEL_DIRECTORY: InjectionToken<ChannelDirectory> = Symbol('parley.ChannelDirectory');
