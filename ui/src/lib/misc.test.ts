import { describe, expect, it } from 'vitest';
import { idleCheckInterval, isIdle } from './idle';
import { base32Decode, hotp, secondsLeft, totp } from './totp';

describe('idle lock', () => {
  it('locks once the idle timeout has passed without input', () => {
    expect(isIdle(0, 59_999, 60_000)).toBe(false);
    expect(isIdle(0, 60_000, 60_000)).toBe(true);
  });
  it('never locks with no timeout', () => {
    expect(isIdle(0, 10 ** 12, 0)).toBe(false);
  });
  it('checks often enough, but not too often', () => {
    expect(idleCheckInterval(15 * 60_000)).toBe(15_000);
    expect(idleCheckInterval(60_000)).toBe(3_000);
    expect(idleCheckInterval(5_000)).toBe(1_000);
  });
});

describe('demo TOTP', () => {
  // RFC 6238 appendix B, SHA-1: the secret "12345678901234567890".
  const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

  it('decodes base32', () => {
    expect(new TextDecoder().decode(base32Decode(RFC_SECRET))).toBe('12345678901234567890');
    expect(new TextDecoder().decode(base32Decode('gezd gnbv'))).toBe('12345');
  });
  it('matches the RFC 6238 test vectors (last 6 digits)', async () => {
    expect(await totp(RFC_SECRET, 59_000, 30, 8)).toBe('94287082');
    expect(await totp(RFC_SECRET, 1_111_111_109_000, 30, 8)).toBe('07081804');
    expect(await totp(RFC_SECRET, 1_234_567_890_000)).toBe('005924');
  });
  it('matches RFC 4226 HOTP values', async () => {
    const key = base32Decode(RFC_SECRET);
    expect(await hotp(key, 0)).toBe('755224');
    expect(await hotp(key, 9)).toBe('520489');
  });
  it('counts down to the next code', () => {
    expect(secondsLeft(0)).toBe(30);
    expect(secondsLeft(29_000)).toBe(1);
  });
});
