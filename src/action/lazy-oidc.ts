/**
 * Stands in for @actions/core's OIDC client in the bundle (see
 * scripts/build.mjs): the real one, with @actions/http-client and undici,
 * is loaded only when a token is asked for, which this action never does.
 */
export class OidcClient {
  static async getIDToken(audience?: string): Promise<string> {
    // @ts-expect-error resolved by the build to @actions/core's own lib/oidc-utils.js (not in its exports map)
    const real = (await import('@actions/core/lib/oidc-utils.js')) as { OidcClient: { getIDToken(audience?: string): Promise<string> } };
    return real.OidcClient.getIDToken(audience);
  }
}
