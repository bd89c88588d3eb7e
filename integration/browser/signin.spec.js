// With --credentials, the console asks for keys first: a wrong secret is
// refused with the server's error, the right one opens the console, and the
// secret never appears in a URL (the page's or a request's).
'use strict';

module.exports = async ({ page, env, assert, shot, a11y }) => {
  const urls = [];
  page.on('request', (r) => urls.push(r.url()));
  await page.goto('./');
  const form = page.getByRole('form', { name: 'Sign in' });
  await form.waitFor();
  await shot('signin');
  await a11y('the sign-in form');
  await form.getByLabel('Access key ID').fill(env.SPEC_KEY_ID);
  await form.getByLabel('Secret access key').fill('not-the-secret');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'InvalidSignatureException' }).waitFor();

  await form.getByLabel('Secret access key').fill(env.SPEC_SECRET);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  await page.getByText(env.SPEC_KEY_ID).waitFor();
  for (const u of [...urls, page.url()]) {
    assert.ok(!u.includes(env.SPEC_SECRET), `the secret is in a URL: ${u}`);
  }

  // A reload keeps the tab signed in; signing out asks again.
  await page.reload();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('form', { name: 'Sign in' }).waitFor();
};
