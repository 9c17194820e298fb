// A real OpenID Connect provider for the single sign-on browser test: panva's oidc-provider (npm),
// which no one here wrote, with its own development sign-in pages (any login, any password; the
// login typed becomes the account's `sub`). Loopback only. Started and stopped by
// tests/browser/test_sso_real_provider.py:
//   node server.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
// It prints "READY <issuer>" once it listens.
import { randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
if (!port || !clientId || !clientSecret || !redirectUri) {
  console.error('usage: node server.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      // mozilla-django-oidc sends the client's id and secret in the token request's body.
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  claims: {
    openid: ['sub'],
    email: ['email'],
    profile: ['preferred_username'],
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, email: `${id}@peer.example` };
      },
    };
  },
  cookies: { keys: [randomBytes(32).toString('hex')] },
});

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`READY ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
