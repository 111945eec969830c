import { Component, type ErrorInfo, type ReactNode } from 'react';

interface State {
  error: Error | null;
}

/**
 * Last line of defence: a render error shows what happened and a way out instead of a blank page. Data comes from
 * ingest, which anyone with the token can write, so an unexpected shape must never take the whole dashboard down.
 */
export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    if (import.meta.env.DEV) console.debug('dashboard render error', error, info.componentStack);
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <section className="empty" role="alert" aria-label="Dashboard error">
        <h1>Something went wrong drawing the dashboard</h1>
        <p>{error.message}</p>
        <p>
          <a href={window.location.pathname}>Reload without filters</a>
        </p>
      </section>
    );
  }
}
