import { describe, expect, it } from 'vitest';
import { describeError } from './port-forward.ts';

describe('describeError', () => {
  it('names an Error, an event with a message, and anything else without "[object Object]"', () => {
    expect(describeError(new Error('pod not found'))).toBe('pod not found');
    expect(describeError({ type: 'error', message: 'Unexpected server response: 404' })).toBe('Unexpected server response: 404');
    expect(describeError({ type: 'error', target: 'ws' })).toBe("{ type: 'error', target: 'ws' }");
    expect(describeError('closed')).toBe('closed');
  });
});
