import { type Request, type Response, Router } from 'express';
import type { Config } from '../config/schema';
import type { ErrorRenderer } from '../http/error-handler';
import { parseCookies, queryParams } from '../http/params';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LANGUAGE_COOKIE, type Language, type Translator, chooseLanguage, isLanguage, translator } from './i18n';
import { type NoticeText, type Page, errorPage } from './views';

const LOGO_TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.svg': 'image/svg+xml' };
const LONG_CACHE = 'public, max-age=31536000, immutable';
const hash = (body: Buffer) => createHash('sha256').update(body).digest('hex').slice(0, 12);

interface Asset {
  url: string;
  type: string;
  body: Buffer;
}

/** A logo file, served under a URL with its content hash: browsers keep it for a year and still see a new one at once. */
function readLogo(file: string, key: string): Asset {
  const type = LOGO_TYPES[path.extname(file).toLowerCase()];
  if (!type) throw new Error(`${key} ${file}: use a .png, .jpg, .webp or .svg file`);
  let body: Buffer;
  try {
    body = readFileSync(file);
  } catch (error) {
    throw new Error(`${key} ${file} cannot be read: ${(error as Error).message}`);
  }
  return { url: `/ui/logo-${hash(body)}${path.extname(file).toLowerCase()}`, type, body };
}

/** A local path to come back to after switching language; anything else goes to the login page. */
export function localReturnPath(value: string | undefined): string {
  if (!value || value.length > 2048 || !value.startsWith('/') || value.startsWith('//') || /[\\\s]/.test(value)) return '/cas/login';
  return value;
}

/**
 * Builds each page's language and branding from the request and `ui` config,
 * and serves the language switcher (`GET /language?lang=ja&return=/path`).
 */
export class WebUi {
  private readonly logo?: Asset;
  /** Logos of registered services (`ui.services.<name>.logoFile`), by service name. */
  private readonly serviceLogos = new Map<string, Asset>();
  private readonly theme?: { url: string; body: string };

  /** Reads the logos once; a configured logo that cannot be read stops the start with the file named. */
  constructor(
    private readonly config: Config['ui'],
    configDir = '.',
  ) {
    if (config.logoFile) this.logo = readLogo(path.resolve(configDir, config.logoFile), 'ui.logoFile');
    for (const [name, service] of Object.entries(config.services)) {
      if (service.logoFile) this.serviceLogos.set(name, readLogo(path.resolve(configDir, service.logoFile), `ui.services.${name}.logoFile`));
    }
    if (config.primaryColor) {
      const c = config.primaryColor;
      const body = `:root { --accent: ${c}; --on-accent: #fff; --link: ${c}; }\n@media (prefers-color-scheme: dark) { :root { --accent: ${c}; --on-accent: #fff; } }\n`;
      this.theme = { url: `/ui/theme-${hash(Buffer.from(body))}.css`, body };
    }
  }

  /** The notice in the page language, when one is configured. */
  notice(lang: Language): NoticeText | undefined {
    const notice = this.config.notice;
    if (!notice) return undefined;
    const text = this.localized(notice.text, lang) ?? '';
    return { version: notice.version, title: this.localized(notice.title, lang), paragraphs: text.split(/\r?\n\s*\r?\n/).map((p) => p.trim()).filter(Boolean) };
  }

  /** The configured text in the page language (English when there is no Japanese one). */
  private localized(text: string | { en: string; ja?: string } | undefined, lang: Language): string | undefined {
    if (text === undefined || typeof text === 'string') return text;
    return (lang === 'ja' ? text.ja : undefined) ?? text.en;
  }

  /** The name (and logo) the login page gives a registered service, when `ui.services` names it. */
  serviceBranding(serviceName: string | undefined, lang: Language): { name: string; logoUrl?: string } | undefined {
    const entry = serviceName === undefined ? undefined : this.config.services[serviceName];
    if (!entry || serviceName === undefined) return undefined;
    return { name: this.localized(entry.displayName, lang) as string, logoUrl: this.serviceLogos.get(serviceName)?.url };
  }

  translator(req: Request): Translator {
    return translator(chooseLanguage(parseCookies(req.get('cookie')).get(LANGUAGE_COOKIE), req.get('accept-language'), this.config.defaultLanguage));
  }

  /** `here` defaults to the request's own URL (GET) or path (POST: the form's data is not repeatable). */
  page(req: Request, here?: string): Page {
    const tr = this.translator(req);
    return {
      tr,
      productName: this.config.productName,
      here: localReturnPath(here ?? (req.method === 'GET' ? req.originalUrl : req.path)),
      logoUrl: this.logo?.url,
      themeUrl: this.theme?.url,
      helpText: this.localized(this.config.helpText, tr.lang),
      helpUrl: this.config.helpUrl,
    };
  }

  routes(): Router {
    const router = Router();
    router.get('/language', (req, res) => {
      const params = queryParams(req);
      const lang = params.get('lang');
      if (isLanguage(lang)) res.append('Set-Cookie', `${LANGUAGE_COOKIE}=${lang}; Path=/; Secure; SameSite=Lax; Max-Age=31536000`);
      res.set('Cache-Control', 'no-store');
      res.redirect(303, localReturnPath(params.get('return')));
    });
    const { logo, theme } = this;
    for (const asset of [...(logo ? [logo] : []), ...this.serviceLogos.values()]) {
      router.get(asset.url, (_req, res) => void res.set('Cache-Control', LONG_CACHE).type(asset.type).send(asset.body));
    }
    if (theme) router.get(theme.url, (_req, res) => void res.set('Cache-Control', LONG_CACHE).type('text/css').send(theme.body));
    return router;
  }

  /** HTML error pages (not the API, not CAS protocol endpoints, which render first) in the page's language. */
  errorRenderer(): ErrorRenderer {
    return (req: Request, res: Response, problem) => {
      if (req.path.startsWith('/api/')) return false;
      const page = this.page(req);
      const { t } = page.tr;
      const [title, message] =
        problem.status === 503
          ? [t('error.unavailableTitle'), t('error.unavailable')]
          : problem.status >= 500
            ? [t('error.internalTitle'), t('error.internal')]
            : problem.status === 404
              ? [t('error.notFoundTitle'), t('error.notFound')]
              : [t('error.refusedTitle'), t('error.refused')];
      // A 503's detail says what is wrong ("the database cannot be written: disk full"); other server faults say nothing more.
      const detail = problem.status < 500 || problem.status === 503 ? problem.detail : undefined;
      res.status(problem.status).type('html').send(errorPage(page, title, message, detail));
      return true;
    };
  }
}
