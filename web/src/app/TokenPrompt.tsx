import { useState } from 'react';

/** Asks for the collector's read token after a 401 / close code 4401. */
export function TokenPrompt({
  onSubmit,
  retry,
}: {
  onSubmit: (token: string) => void;
  retry: boolean;
}) {
  const [value, setValue] = useState('');
  return (
    <div className="modal-backdrop">
      <form
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-label="Collector read token"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) onSubmit(value.trim());
        }}
      >
        <h2>This collector needs a read token</h2>
        <p>
          {retry ? 'That token was not accepted. ' : ''}Paste the read token configured on the
          collector. It is kept in this tab only and forgotten when the tab closes.
        </p>
        <input
          type="password"
          aria-label="Read token"
          autoComplete="off"
          // biome-ignore lint/a11y/noAutofocus: the dialog exists only to take this input.
          autoFocus
          value={value}
          onChange={(e) => setValue(e.target.value)}
        />
        <div className="actions">
          <button type="submit" className="btn btn-primary">
            Connect
          </button>
        </div>
      </form>
    </div>
  );
}
