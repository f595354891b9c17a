import type {
  AcceptedFrame,
  HeartbeatFrame,
  ReconnectFrame,
  WelcomeFrame,
} from '@agentwire/protocol';

/** Serialisers of the server's control frames (event frames come serialised from Redis). */

export function welcomeFrame(welcome: Omit<WelcomeFrame, 'type'>): string {
  const frame: WelcomeFrame = { type: 'welcome', ...welcome };
  return JSON.stringify(frame);
}

export function heartbeatFrame(now: number): string {
  const frame: HeartbeatFrame = { type: 'heartbeat', ts: now };
  return JSON.stringify(frame);
}

export function reconnectFrame(afterMs: number): string {
  const frame: ReconnectFrame = { type: 'reconnect', afterMs };
  return JSON.stringify(frame);
}

export function acceptedFrame(id: string): string {
  const frame: AcceptedFrame = { type: 'accepted', id };
  return JSON.stringify(frame);
}

export function errorFrame(code: string, message: string, id?: string): string {
  return JSON.stringify(
    id === undefined ? { type: 'error', code, message } : { type: 'error', code, message, id },
  );
}
