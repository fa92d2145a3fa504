// The dashboard in a real browser: Debian's chromium driven by Playwright
// (playwright-core from dev/services/browser.sh). Run by tests/dashboard.rs,
// which owns the daemons, the pushes and the checks of the world: this
// script asks it for them with a line `ask <what>` on stdout and reads the
// answer from stdin. Any failed check throws: the process exits non-zero.
//
// Environment: DUMCEL_PLAYWRIGHT (playwright-core's install directory),
// SERVE_URL, PROJECT, FIRST_SHA (what production serves at the start),
// SCREENSHOTS (a directory, or empty for none).
import { createRequire } from "node:module";
import readline from "node:readline";

const require = createRequire(`${process.env.DUMCEL_PLAYWRIGHT}/`);
const { chromium } = require("playwright-core");

const serve = process.env.SERVE_URL;
const project = process.env.PROJECT;
const first = process.env.FIRST_SHA;
const shots = process.env.SCREENSHOTS || "";
const MINUTE = 60_000;

const answers = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function ask(what) {
  console.log(`ask ${what}`);
  const { value, done } = await answers.next();
  if (done) throw new Error(`no answer to ${what}`);
  return value.trim();
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function shot(page, name) {
  if (shots) await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

// Through serve's /auth/login and the provider's development forms, as
// `login`; ends where serve sends the person back.
async function signIn(page, login) {
  await page.waitForSelector('input[name="login"]', { timeout: MINUTE });
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', "any");
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  if (await page.locator('input[name="prompt"][value="consent"]').count()) {
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  }
  await page.waitForURL((url) => url.origin === serve, { timeout: MINUTE });
}

async function main(browser) {
  const alice = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await alice.newPage();
  const projectPage = `${serve}/projects/${project}`;

  // Signing in on the way to a project's page comes back to it.
  await page.goto(projectPage);
  await signIn(page, "alice");
  check(page.url() === projectPage, `signed in to ${page.url()}`);
  const card = page.locator('[data-environment="production"]');
  await card.locator(`.serving code[title="${first}"]`).waitFor({ timeout: MINUTE });
  check(await page.locator(".who").textContent() === "user:alice", "the bar names alice");

  // A push appears on the open page as it happens, without a reload.
  await page.evaluate(() => { window.stillTheSamePage = true; });
  const second = await ask("push");
  const row = page.locator(`tr[data-sha="${second}"]`);
  await row.waitFor({ timeout: MINUTE });
  check(await page.evaluate(() => window.stillTheSamePage === true), "the page was reloaded");
  await shot(page, "project-live");

  // Its build log, followed line by line while it builds: the slow step's
  // output arrives while the page is still following (before the reload
  // that shows the kept log).
  await Promise.all([page.waitForNavigation(), row.locator('a:text("Details")').click()]);
  await page.locator(`#log[data-follow] span:has-text("${project}")`).waitFor({ timeout: 2 * MINUTE });
  await shot(page, "build-log-live");
  await page.locator('h1 + p [data-outcome="succeeded"]').waitFor({ timeout: 3 * MINUTE });
  const kept = await page.locator("#log").textContent();
  check(kept.includes("COPY www /www"), `the kept log:\n${kept}`);
  await shot(page, "deployment");
  await ask("released");

  // Roll back from the dashboard, confirming first.
  await page.goto(projectPage);
  const back = page.locator(`tr[data-sha="${first}"] a:text("Roll back to this")`).first();
  await Promise.all([page.waitForNavigation(), back.click()]);
  const question = await page.locator(".question").textContent();
  check(question.includes(first.slice(0, 7)) && question.includes(second.slice(0, 7)), question);
  await shot(page, "confirm-rollback");
  await Promise.all([page.waitForNavigation(), page.click("form.confirm button")]);
  check(page.url() === projectPage, `after the rollback: ${page.url()}`);
  const rollback = page.locator(`tr[data-sha="${first}"]:has(td:text-is("rollback"))`);
  await rollback.locator('[data-outcome="succeeded"]').waitFor({ timeout: 3 * MINUTE });
  await card.locator(`.serving code[title="${first}"]`).waitFor({ timeout: MINUTE });
  check(await rollback.locator("td:nth-child(5)").textContent() === "user:alice", "the rollback is alice's");
  await shot(page, "project");
  await ask("rolled-back");

  // A branch that changes the stack waits for approval: the dashboard
  // shows its plan, alice approves it there, and it deploys.
  const feature = await ask("stack-change");
  const waiting = page.locator(`tr[data-sha="${feature}"]`);
  await waiting.locator('[data-outcome="awaiting_approval"]').waitFor({ timeout: 3 * MINUTE });
  await Promise.all([page.waitForNavigation(), waiting.locator('a:text("Details")').click()]);
  const plan = await page.locator("#plan").textContent();
  check(/Plan: \d+ to add/.test(plan) && plan.includes("a reviewed change"), `the plan:\n${plan}`);
  await shot(page, "approval");
  await Promise.all([page.waitForNavigation(), page.click('button:text("Approve and deploy")')]);
  check(page.url() === projectPage, `after approving: ${page.url()}`);
  await page
    .locator(`tr[data-sha="${feature}"]:has(td:text-is("redeploy")) [data-outcome="succeeded"]`)
    .waitFor({ timeout: 3 * MINUTE });
  await ask("approved");

  // Signing out ends the session: the project's page asks to sign in again.
  await Promise.all([page.waitForNavigation(), page.click('.bar button:text("Sign out")')]);
  const after = await page.request.get(`${serve}/api/v1/projects/${project}`);
  check(after.status() === 401, `after signing out: ${after.status()}`);

  // Bob may see nothing of the project: not in the list, a 403 page, and
  // the API refuses him too, even with his CSRF token.
  const bobs = await browser.newContext();
  const bob = await bobs.newPage();
  await bob.goto(`${serve}/`);
  await Promise.all([bob.waitForNavigation(), bob.click('a:text("Sign in")')]);
  await signIn(bob, "bob");
  check(await bob.locator(".who").textContent() === "user:bob", "the bar names bob");
  check(await bob.locator(".projects li").count() === 0, "bob sees a project");
  check(!(await bob.content()).includes(project), "bob's list names the project");
  const refused = await bob.goto(projectPage);
  check(refused.status() === 403, `bob's project page: ${refused.status()}`);
  check((await bob.locator(".error").textContent()).includes("may not see"), "the 403 page says why");
  const confirm = await bob.goto(`${projectPage}/environments/production/redeploy`);
  check(confirm.status() === 403, `bob's confirmation page: ${confirm.status()}`);
  const deployment = await bob.goto(`${projectPage}/deployments/any`);
  check(deployment.status() === 403, `bob's deployment page: ${deployment.status()}`);
  const me = await (await bob.request.get(`${serve}/api/v1/me`)).json();
  const api = await bob.request.post(`${serve}/api/v1/projects/${project}/environments/production/redeploy`, {
    headers: { "x-csrf-token": me.csrf_token },
  });
  check(api.status() === 403, `bob's redeploy through the API: ${api.status()}`);
  await shot(bob, "no-access");
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
let failed = null;
try {
  await main(browser);
} catch (e) {
  failed = e;
} finally {
  await browser.close();
}
if (failed) {
  console.error(failed);
  process.exit(1);
}
console.log("done");
// stdin stays open (the test's answers): end here.
process.exit(0);
