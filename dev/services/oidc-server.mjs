// A real OpenID Connect provider for the sign-in tests: the npm package
// oidc-provider (installed by dev/services/oidc.sh), with its development
// sign-in form, which takes any login. Configured from the environment:
//   OIDC_PORT           the loopback port
//   OIDC_CLIENT_ID      the one client, its secret and its redirect URIs
//   OIDC_CLIENT_SECRET
//   OIDC_REDIRECT_URIS  comma-separated
//   OIDC_GROUPS         JSON: {"alice": ["octo"]} (the `groups` claim per login,
//                       sent with the profile scope)
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const groups = JSON.parse(process.env.OIDC_GROUPS || '{}');

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID,
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: process.env.OIDC_REDIRECT_URIS.split(','),
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  // Groups come with the profile, as many providers send them.
  claims: { openid: ['sub'], profile: ['preferred_username', 'groups'] },
  scopes: ['openid', 'profile'],
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, preferred_username: id, groups: groups[id] || [] }),
  }),
  cookies: { keys: [crypto.randomUUID()] },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
});
provider.listen(port, '127.0.0.1', () => console.log(`listening at ${issuer}`));
