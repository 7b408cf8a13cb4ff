// The analyst page in a real browser: Debian's chromium driven by
// playwright-core (from clients/web/node_modules), against a real annalsd
// serving the built-in data set and the built page (--http-listen).
//
// usage: node tests/web/page.test.mjs BASE_URL SCREENSHOT_DIR
// Prints one "PASS name" / "FAIL name: why" line per check; exits 1 on a failure.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../clients/web/package.json'));
const { chromium } = require('playwright-core');

const [base, shots, tokenBase, token] = process.argv.slice(2);
let failed = 0;
const pass = (n) => console.log('PASS ' + n);
const fail = (n, why) => { failed++; console.log('FAIL ' + n + ': ' + why); };
async function check(name, fn) {
  try { const why = await fn(); why ? fail(name, why) : pass(name); } catch (e) { fail(name, e.message.split('\n')[0]); }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
const external = [];
page.on('request', (r) => { if (!r.url().startsWith(base)) external.push(r.url()); });
const errors = [];
page.on('pageerror', (e) => errors.push(e.message));

await page.goto(base + '/?entity=org:csto&at=2005');
await page.waitForSelector('.vis-item', { timeout: 15000 });
await page.waitForSelector('#asof-lists h3', { timeout: 15000 });
await page.screenshot({ path: path.join(shots, 'web-csto-2005.png'), fullPage: true });

const lane = (id) => '.subj-' + id.replace(/[^a-z0-9]+/gi, '-');
await check('page: the entity from the address is shown', async () => {
  const t = await page.textContent('#entity-name');
  return /Collective Security Treaty Organization/.test(t) ? '' : 'heading is "' + t + '"';
});
await check('page: Uzbekistan lane shows two suspensions', async () => {
  const n = await page.locator('.vis-item.suspended' + lane('country:uzbekistan')).count();
  return n === 2 ? '' : n + ' suspended spans';
});
await check('page: Azerbaijan after April 1999 is drawn as unknown', async () => {
  const items = page.locator('.vis-item.unknown' + lane('country:azerbaijan'));
  if ((await items.count()) !== 1) return (await items.count()) + ' unknown spans';
  const solid = page.locator('.vis-item.member' + lane('country:azerbaijan'));
  const [u, s] = [await items.first().boundingBox(), await solid.first().boundingBox()];
  // the unknown span starts where the solid one ends (April 1999), to the right of it
  return Math.abs(u.x - (s.x + s.width)) < 4 ? '' : 'unknown starts at x=' + u.x + ', solid ends at ' + (s.x + s.width);
});
await check('page: unknown spans look different from held ones', async () => {
  const bg = async (sel) => page.locator(sel).first().evaluate((e) => getComputedStyle(e).backgroundImage + '|' + getComputedStyle(e).backgroundColor);
  const u = await bg('.vis-item.unknown'), m = await bg('.vis-item.member');
  return u !== m ? '' : 'both ' + u;
});
const members = async () => (await page.locator('#asof-lists .asof-group').first().locator('button').allTextContents()).sort();
let in2005;
await check('page: members as of 2005 (Uzbekistan suspended)', async () => {
  in2005 = await members();
  const susp = await page.locator('#asof-lists .asof-group.suspended button').allTextContents();
  if (in2005.includes('Uzbekistan')) return 'Uzbekistan listed as a member: ' + in2005;
  return susp.includes('Uzbekistan') ? '' : 'suspended: ' + susp;
});
await check('page: changing the date changes the member list', async () => {
  await page.fill('#at', '2008');
  await page.click('#asof-form button');
  await page.waitForFunction(() => /as of 2008/.test(document.querySelector('#asof-title').textContent));
  await page.waitForTimeout(300);
  const in2008 = await members();
  if (!in2008.includes('Uzbekistan')) return 'Uzbekistan not a member in 2008: ' + in2008;
  if (!new URL(page.url()).search.includes('at=2008')) return 'address not updated: ' + page.url();
  return JSON.stringify(in2008) !== JSON.stringify(in2005) ? '' : 'same list';
});
await check('page: a click shows evidence', async () => {
  await page.locator('.vis-item.suspended' + lane('country:uzbekistan')).first().click();
  await page.waitForSelector('#evidence:not([hidden]) tbody tr', { timeout: 5000 });
  const row = await page.locator('#evidence tbody tr').first().textContent();
  await page.screenshot({ path: path.join(shots, 'web-evidence.png'), fullPage: true });
  return /doc:ad6eff3e562ac92b/.test(row) && /asserted|reported|claimed|hedged/.test(row) ? '' : 'row: ' + row;
});
await check('page: search finds an entity by name', async () => {
  await page.fill('#q', 'Uzbekistan');
  await page.click('#search button');
  await page.waitForFunction(() => /Uzbekistan/.test(document.querySelector('#entity-name').textContent));
  return '';
});
await check('page: a person as of a date lists its ties by truth', async () => {
  await page.goto(base + '/?entity=person:stanislav-zas&at=2020-01-01');
  await page.waitForSelector('#asof-lists h3', { timeout: 15000 });
  const holds = (await page.locator('#asof-lists .asof-group').first().textContent()) || '';
  const not = (await page.locator('#asof-lists .asof-group').last().textContent()) || '';
  // on the day of his appointment Zas holds the office; his candidacy is over
  // (later days are UNKNOWN: the text only sees him in office when written)
  return /holds position/.test(holds) && /Secretary General/.test(holds) && /candidate for/.test(not)
    ? '' : 'holds: ' + holds.slice(0, 200) + ' | not: ' + not.slice(0, 200);
});
await check('page: nothing fetched from elsewhere, no script errors', async () =>
  external.length || errors.length ? 'external: ' + external.join(' ') + ' errors: ' + errors.join(' | ') : '');
// A server with --tokens: the page says what is missing, and works once
// the token is given in its field (kept for the browser session).
if (tokenBase) {
  const p2 = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  await p2.goto(tokenBase + '/?entity=org:csto&at=2005');
  await check('page with tokens: no token is an UNAUTHENTICATED error naming the token field', async () => {
    await p2.waitForSelector('#error:not([hidden])', { timeout: 10000 });
    const t = await p2.textContent('#error');
    return /UNAUTHENTICATED/.test(t) && /Token/.test(t) ? '' : 'error text: ' + t;
  });
  await check('page with tokens: the token field opens the view', async () => {
    await p2.click('#auth summary');
    await p2.fill('#token', token);
    await p2.dispatchEvent('#token', 'change');
    await p2.reload();
    await p2.waitForSelector('.vis-item.suspended', { timeout: 15000 });
    const kept = await p2.inputValue('#token');
    const hidden = await p2.isHidden('#error');
    return kept === token && hidden ? '' : 'token kept: ' + (kept === token) + ', error hidden: ' + hidden;
  });
  await p2.screenshot({ path: path.join(shots, 'web-with-token.png') });
}
await browser.close();
process.exit(failed ? 1 : 0);
