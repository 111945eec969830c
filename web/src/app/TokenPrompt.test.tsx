// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenPrompt } from './TokenPrompt.tsx';

afterEach(cleanup);

describe('TokenPrompt', () => {
  it('submits the trimmed token and ignores an empty one', () => {
    const submitted: string[] = [];
    render(<TokenPrompt retry={false} onSubmit={(t) => submitted.push(t)} />);
    const button = screen.getByRole('button', { name: 'Connect' });
    fireEvent.click(button);
    expect(submitted).toEqual([]);
    fireEvent.change(screen.getByLabelText('Read token'), { target: { value: '  s3cret ' } });
    fireEvent.click(button);
    expect(submitted).toEqual(['s3cret']);
  });

  it('says the last token was rejected when retrying', () => {
    render(<TokenPrompt retry onSubmit={() => {}} />);
    expect(screen.getByText(/That token was not accepted/)).toBeTruthy();
  });
});
