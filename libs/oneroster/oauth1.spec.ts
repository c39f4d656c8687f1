import { describe, expect, it } from 'vitest';
import { oauth1AuthorizationHeader, oauth1Nonce, oauth1SignatureBaseString, oauthPercentEncode } from './oauth1.js';

const signatureOf = (header: string) => decodeURIComponent(/oauth_signature="([^"]+)"/.exec(header)![1]);

describe('OAuth 1.0a HMAC-SHA1 signing', () => {
  it('matches the OAuth Core 1.0 Appendix A vector (GET with query parameters)', () => {
    const header = oauth1AuthorizationHeader({
      method: 'GET',
      url: 'http://photos.example.net/photos?file=vacation.jpg&size=original',
      consumerKey: 'dpf43f3p2l4k3l03',
      consumerSecret: 'kd94hf93k423kf44',
      token: 'nnch734d00sl2jdk',
      tokenSecret: 'pfkkdhi9sl3r4s00',
      timestamp: 1191242096,
      nonce: 'kllo9940pd9333jh',
    });
    expect(signatureOf(header)).toBe('tR3+Ty81lMeYAr/Fid0kMTYa/WM=');
    expect(header).toMatch(/^OAuth oauth_consumer_key="dpf43f3p2l4k3l03", /);
    expect(header).toContain('oauth_signature_method="HMAC-SHA1"');
  });

  it('builds the Appendix A signature base string', () => {
    expect(
      oauth1SignatureBaseString('GET', 'http://photos.example.net/photos?file=vacation.jpg&size=original', {
        oauth_consumer_key: 'dpf43f3p2l4k3l03',
        oauth_token: 'nnch734d00sl2jdk',
        oauth_signature_method: 'HMAC-SHA1',
        oauth_timestamp: '1191242096',
        oauth_nonce: 'kllo9940pd9333jh',
        oauth_version: '1.0',
      }),
    ).toBe(
      'GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3Dkllo9940pd9333jh%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096%26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal',
    );
  });

  // The value every conforming implementation computes for X's worked example (its page prints a different one).
  it('matches the X (Twitter) "creating a signature" vector: reserved characters, body parameters', () => {
    const header = oauth1AuthorizationHeader({
      method: 'POST',
      url: 'https://api.twitter.com/1.1/statuses/update.json?include_entities=true',
      bodyParams: [['status', 'Hello Ladies + Gentlemen, a signed OAuth request!']],
      consumerKey: 'xvz1evFS4wEEPTGEFPHBog',
      consumerSecret: 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
      token: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
      tokenSecret: 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE',
      timestamp: 1318622958,
      nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg',
    });
    expect(signatureOf(header)).toBe('hCtSmYh+iHYCEqBWrE7C7hYmtUk=');
  });

  it('signs OneRoster paging and filter parameters, normalising the URL', () => {
    const base = oauth1SignatureBaseString(
      'get',
      "HTTPS://SIS.Example.org:443/ims/oneroster/v1p1/users?limit=100&offset=200&filter=status%3D'active'%20AND%20role%3D'student'",
      { oauth_consumer_key: 'k' },
    );
    expect(base).toBe(
      'GET&https%3A%2F%2Fsis.example.org%2Fims%2Foneroster%2Fv1p1%2Fusers&filter%3Dstatus%253D%2527active%2527%2520AND%2520role%253D%2527student%2527%26limit%3D100%26oauth_consumer_key%3Dk%26offset%3D200',
    );
  });

  it('percent-encodes per RFC 3986', () => {
    expect(oauthPercentEncode("a b+c!*'()~._-é/")).toBe('a%20b%2Bc%21%2A%27%28%29~._-%C3%A9%2F');
  });

  it('draws a different nonce every time', () => {
    const nonces = new Set(Array.from({ length: 100 }, () => oauth1Nonce()));
    expect(nonces.size).toBe(100);
  });
});
