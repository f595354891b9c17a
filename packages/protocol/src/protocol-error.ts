import { CloseCode } from './close-codes.js';
import type { ErrorCode } from './error-codes.js';

/** Why a client frame was refused, and how the connection must answer it. */
export interface FrameRejection {
  code: ErrorCode;
  message: string;
  /** Close code the connection is closed with. */
  closeCode: CloseCode;
  /** The frame's `id`, when it had a readable one (publish). */
  id?: string;
}

export function rejection(
  code: ErrorCode,
  message: string,
  closeCode: CloseCode = CloseCode.ProtocolError,
  id?: string,
): FrameRejection {
  return id === undefined ? { code, message, closeCode } : { code, message, closeCode, id };
}
