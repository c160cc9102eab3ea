import { describe, expect, it } from 'vitest';
import { parseShopOrigins, redirectProblem } from '#shared/domain/redirects';

const SHOP = ['https://shop.example.com'];

describe('redirect targets', () => {
  it('allows pages of the shop, and nothing else', () => {
    expect(redirectProblem('https://shop.example.com/account?tab=1#x', SHOP)).toBeNull();
    expect(redirectProblem('https://SHOP.example.com:443/ok', SHOP)).toBeNull();
    for (const bad of [
      'http://evil.example',
      'https://evil.example/',
      'https://user:pw@evil.example/',
      'https://user@shop.example.com/',
      'http://shop.example.com/',
      'https://shop.example.com:8443/',
      'https://shop.example.com.evil.example/',
      'javascript:alert(1)',
      '//shop.example.com/',
      'not a url',
    ]) {
      expect(redirectProblem(bad, SHOP), bad).not.toBeNull();
    }
  });

  it('reads the configured origins, https only in AWS, each problem naming its entry', () => {
    expect(parseShopOrigins('https://shop.example.com, https://m.shop.example.com/', { httpsOnly: true })).toEqual({
      origins: ['https://shop.example.com', 'https://m.shop.example.com'],
      problems: [],
    });
    const { problems } = parseShopOrigins('http://shop.example.com,https://a:b@x.example.com,https://x.example.com/path,nope', {
      httpsOnly: true,
    });
    expect(problems).toHaveLength(4);
    expect(problems.join(' ')).toMatch(/http:\/\/shop.example.com.*https.*a:b@x.example.com.*user name.*\/path.*origin only.*nope/);
    expect(parseShopOrigins('http://127.0.0.1:3000', { httpsOnly: false }).problems).toEqual([]);
    expect(parseShopOrigins('', { httpsOnly: false }).problems).toEqual(['no origin is listed']);
  });
});
