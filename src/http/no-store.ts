import type { NextFunction, Request, Response } from 'express';

/** Per-user answers (login pages, tickets, validation results) must never be stored by a browser or proxy. */
export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache', Expires: '0' });
  next();
}
