import type { RequestHandler } from 'express';
import { type SafeHtml, html } from '../web/html';
import type { Translator } from '../web/i18n';
import type { HourlySignIns } from '../storage/console-stats';
import { type ConsoleDeps, consolePage } from './context';
import { consoleLayout, time, vocabulary } from './views';

const HOURS = 24;

/** Sign-ins per hour as grouped bars, drawn on the server (no script); the same numbers follow as a table. */
export function signInChart(tr: Translator, hours: HourlySignIns[]): SafeHtml {
  const width = 720;
  const height = 220;
  const top = 10;
  const bottom = 30;
  const left = 36;
  const max = Math.max(1, ...hours.flatMap((h) => [h.succeeded, h.failed, h.locked]));
  const slot = (width - left) / hours.length;
  const bar = (slot - 4) / 3;
  const y = (n: number) => top + (height - top - bottom) * (1 - n / max);
  const series: [keyof Omit<HourlySignIns, 'hour'>, string][] = [
    ['succeeded', 'ok'],
    ['failed', 'fail'],
    ['locked', 'lock'],
  ];
  return html`<figure class="chart">
<svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">
<title id="chart-title">${tr.t('console.dashboard.chartTitle')}</title>
<line x1="${left}" y1="${y(0)}" x2="${width}" y2="${y(0)}" class="axis"/>
<text x="${left - 4}" y="${y(max) + 4}" text-anchor="end" class="label">${max}</text>
<text x="${left - 4}" y="${y(0)}" text-anchor="end" class="label">0</text>
${hours.map((h, i) => {
    const x = left + i * slot + 2;
    return html`${series.map(([key, cls], j) => (h[key] > 0 ? html`<rect x="${(x + j * bar).toFixed(1)}" y="${y(h[key]).toFixed(1)}" width="${bar.toFixed(1)}" height="${(y(0) - y(h[key])).toFixed(1)}" class="${cls}"/>` : null))}${
      i % 3 === 0 ? html`<text x="${x + slot / 2}" y="${height - 10}" text-anchor="middle" class="label">${new Date(h.hour).toISOString().slice(11, 13)}</text>` : null
    }`;
  })}
</svg>
<figcaption><span class="key ok"></span>${tr.t('console.dashboard.succeeded')} <span class="key fail"></span>${tr.t('console.dashboard.failed')} <span class="key lock"></span>${tr.t('console.dashboard.locked')} (UTC)</figcaption>
</figure>
<details><summary>${tr.t('console.dashboard.chartTable')}</summary>
<table><thead><tr><th scope="col">${tr.t('console.audit.time')}</th><th scope="col">${tr.t('console.dashboard.succeeded')}</th><th scope="col">${tr.t('console.dashboard.failed')}</th><th scope="col">${tr.t('console.dashboard.locked')}</th></tr></thead>
<tbody>${hours.map((h) => html`<tr><td>${time(h.hour)}</td><td>${h.succeeded}</td><td>${h.failed}</td><td>${h.locked}</td></tr>`)}</tbody></table></details>`;
}

export function dashboardPage(deps: ConsoleDeps): RequestHandler {
  const { stats } = deps;
  const { clock, accounts, tickets } = deps;
  return async (req, res) => {
    const page = consolePage(deps, req, res, 'dashboard');
    const { t } = page.tr;
    const now = clock.now();
    const [breakdown, lockedNow, legacy, sessions, hours, lockouts] = await Promise.all([
      stats.accountBreakdown(),
      // Counted by the regulator's rule, as the list behind the link filters (src/admin/account-views.ts).
      deps.listAccounts({ locked: true, limit: 1 }, now).then((list) => list.total),
      accounts.countLegacyHashes(),
      tickets.countActive('TGT', now),
      stats.signInsPerHour(now, HOURS),
      stats.recentLockouts(10),
    ]);
    const total = breakdown.reduce((n, b) => n + b.count, 0);
    const sum = (pick: (b: (typeof breakdown)[number]) => boolean) => breakdown.filter(pick).reduce((n, b) => n + b.count, 0);
    const sources = [...new Set(breakdown.map((b) => b.source))].sort();
    res.type('html').send(
      consoleLayout(
        page,
        t('console.dashboard.title'),
        html`<ul class="tiles">
<li><a href="/admin/accounts"><strong>${total}</strong> ${t('console.dashboard.accounts')}</a></li>
<li><a href="/admin/accounts?role=admin"><strong>${sum((b) => b.role === 'admin')}</strong> ${t('console.dashboard.administrators')}</a></li>
<li><a href="/admin/accounts?state=disabled"><strong>${sum((b) => !b.enabled)}</strong> ${t('console.dashboard.disabled')}</a></li>
<li><a href="/admin/accounts?locked=true"><strong>${lockedNow}</strong> ${t('console.dashboard.lockedNow')}</a></li>
<li><strong>${legacy}</strong> ${t('console.dashboard.legacy')}</li>
<li><strong>${sessions}</strong> ${t('console.dashboard.sessions')}</li>
</ul>
<table><caption>${t('console.dashboard.bySource')}</caption><thead><tr><th scope="col">${t('console.account.source')}</th><th scope="col">${t('console.role.admin')}</th><th scope="col">${t('console.role.user')}</th><th scope="col">${t('console.state.enabled')}</th><th scope="col">${t('console.state.disabled')}</th></tr></thead>
<tbody>${sources.map(
          (source) =>
            html`<tr><th scope="row">${vocabulary(page.tr, 'source', source)}</th><td>${sum((b) => b.source === source && b.role === 'admin')}</td><td>${sum((b) => b.source === source && b.role === 'user')}</td><td>${sum((b) => b.source === source && b.enabled)}</td><td>${sum((b) => b.source === source && !b.enabled)}</td></tr>`,
        )}</tbody></table>
<h2>${t('console.dashboard.chartHeading')}</h2>
${signInChart(page.tr, hours)}
<h2>${t('console.dashboard.recentLockouts')}</h2>
${lockouts.length === 0 ? html`<p>${t('console.none')}</p>` : html`<table><thead><tr><th scope="col">${t('console.audit.time')}</th><th scope="col">${t('console.account.username')}</th><th scope="col">${t('console.audit.client')}</th></tr></thead><tbody>${lockouts.map((l) => html`<tr><td>${time(l.at)}</td><td>${l.username ?? ''}</td><td>${l.clientIp ?? ''}</td></tr>`)}</tbody></table>`}`,
      ),
    );
  };
}
