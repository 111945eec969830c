/** What to do when no environment has reported yet: attach the layer. */
export function EmptyState({ collectorUrl }: { collectorUrl: string }) {
  return (
    <section className="empty" aria-label="Getting started">
      <h1>No execution environments yet</h1>
      <p>
        Lifeline draws every Lambda execution environment from its first init to its last shutdown.
        Attach the extension layer to a function and its environments appear here live, no reload
        needed.
      </p>
      <ol>
        <li>
          Add the Lifeline layer to your function (Node.js runtimes):
          <pre>
            aws lambda update-function-configuration --function-name my-fn \{'\n'} --layers
            arn:aws:lambda:&lt;region&gt;:&lt;account&gt;:layer:lifeline:&lt;version&gt;
          </pre>
        </li>
        <li>
          Point it at this collector:
          <pre>
            LIFELINE_COLLECTOR_URL={collectorUrl}
            {'\n'}LIFELINE_TOKEN=&lt;ingest token, if the collector requires one&gt;
          </pre>
        </li>
        <li>Invoke the function. The first cold start shows up within a second.</li>
      </ol>
    </section>
  );
}
