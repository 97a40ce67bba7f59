import { type Request, type Response, Router } from 'express';
import type { Config } from '../config/schema';
import type { ErrorRenderer } from '../http/error-handler';
import { parseCookies, queryParams } from '../http/params';
import { LANGUAGE_COOKIE, type Translator, chooseLanguage, isLanguage, translator } from './i18n';
import { type Page, errorPage } from './views';

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
  constructor(private readonly config: Config['ui']) {}

  translator(req: Request): Translator {
    return translator(chooseLanguage(parseCookies(req.get('cookie')).get(LANGUAGE_COOKIE), req.get('accept-language'), this.config.defaultLanguage));
  }

  /** `here` defaults to the request's own URL (GET) or path (POST: the form's data is not repeatable). */
  page(req: Request, here?: string): Page {
    return {
      tr: this.translator(req),
      productName: this.config.productName,
      here: localReturnPath(here ?? (req.method === 'GET' ? req.originalUrl : req.path)),
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
      res.status(problem.status).type('html').send(errorPage(page, title, message, problem.status < 500 ? problem.detail : undefined));
      return true;
    };
  }
}
