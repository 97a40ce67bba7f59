import type { Knex } from 'knex';
import * as core from './001_core';
import * as cas from './002_cas';
import * as admin from './003_admin';
import * as ops from './004_ops';
import * as ticketStorage from './005_ticket_storage';
import * as tokenSessions from './006_token_sessions';
import * as mfa from './007_mfa';
import * as heartbeat from './008_heartbeat';
import * as noticeAcceptances from './009_notice_acceptances';
import * as webauthn from './010_webauthn';

/**
 * Migrations in order. Listed explicitly (not read from a directory) so the same
 * list works from TypeScript sources under jest and from the compiled build.
 * Append new migrations at the end; never edit one that has shipped.
 */
export const MIGRATIONS: { name: string; migration: Knex.Migration }[] = [
  { name: '001_core', migration: core },
  { name: '002_cas', migration: cas },
  { name: '003_admin', migration: admin },
  { name: '004_ops', migration: ops },
  { name: '005_ticket_storage', migration: ticketStorage },
  { name: '006_token_sessions', migration: tokenSessions },
  { name: '007_mfa', migration: mfa },
  { name: '008_heartbeat', migration: heartbeat },
  { name: '009_notice_acceptances', migration: noticeAcceptances },
  { name: '010_webauthn', migration: webauthn },
];
