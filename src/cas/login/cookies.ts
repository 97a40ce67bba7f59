import type { Request, Response } from 'express';
import { parseCookies } from '../../http/params';

/** The ticket-granting cookie: the browser's single sign-on session (its TGT id). */
export const TGC_COOKIE = 'TGC';
/** Every login cookie stays under /cas, over HTTPS, out of scripts' reach. */
export const COOKIE_ATTRIBUTES = 'Path=/cas; Secure; HttpOnly; SameSite=Lax';

export function readTgc(req: Request): string | undefined {
  return parseCookies(req.get('cookie')).get(TGC_COOKIE);
}

export function setTgc(res: Response, tgtId: string): void {
  res.append('Set-Cookie', `${TGC_COOKIE}=${tgtId}; ${COOKIE_ATTRIBUTES}`);
}

export function clearTgc(res: Response): void {
  res.append('Set-Cookie', `${TGC_COOKIE}=; ${COOKIE_ATTRIBUTES}; Max-Age=0`);
}
