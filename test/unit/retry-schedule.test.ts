import { retryDelaySeconds } from '../../shared/domain/retry-schedule';

describe('retryDelaySeconds', () => {
  const base = { maxAgeSeconds: 180, maxReceiveCount: 3 };

  it('spreads the attempts left over the age left, the last one before the limit', () => {
    // First failure at 5 s: 2 attempts left for 175 s -> back in 78 s (at 83 s).
    expect(retryDelaySeconds({ ...base, ageSeconds: 5, receiveCount: 1 })).toBe(78);
    // Second failure at 83 s: 1 attempt left for 97 s -> back in 87 s (at 170 s < 180 s).
    const second = retryDelaySeconds({ ...base, ageSeconds: 83, receiveCount: 2 })!;
    expect(second).toBe(87);
    expect(83 + second).toBeLessThan(180);
  });

  it('leaves the queue alone when no attempt is left, the age is unknown, or the message is too old', () => {
    expect(retryDelaySeconds({ ...base, ageSeconds: 5, receiveCount: 3 })).toBeNull();
    expect(retryDelaySeconds({ ...base, ageSeconds: null, receiveCount: 1 })).toBeNull();
    expect(retryDelaySeconds({ ...base, ageSeconds: 200, receiveCount: 1 })).toBeNull();
  });

  it('never retries faster than 5 s or later than 15 minutes', () => {
    expect(retryDelaySeconds({ ...base, ageSeconds: 179, receiveCount: 1 })).toBe(5);
    expect(
      retryDelaySeconds({ maxAgeSeconds: 86_400, maxReceiveCount: 3, ageSeconds: 0, receiveCount: 1 }),
    ).toBe(900);
  });
});
