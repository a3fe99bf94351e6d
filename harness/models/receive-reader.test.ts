import { describe, expect, it } from 'vitest';
import { answerOfReceiveReader } from './receive-reader.ts';

describe('answerOfReceiveReader', () => {
  const writers = ['prometheus-0'];
  const stopped = 'prometheus-1';
  it('each replica on a receive of its own (round robin): one reader complete, the other frozen', () => {
    expect(answerOfReceiveReader(['prometheus-0'], writers, stopped)).toBe('complete');
    expect(answerOfReceiveReader(['prometheus-1'], writers, stopped)).toBe('frozen');
  });
  it('both replicas on one receive (a random pick): that reader complete, the other empty', () => {
    expect(answerOfReceiveReader(['prometheus-0', 'prometheus-1'], writers, stopped)).toBe('complete');
    expect(answerOfReceiveReader([], writers, stopped)).toBe('empty');
  });
});
