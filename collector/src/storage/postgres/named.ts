/**
 * `@name` parameters for PostgreSQL statements, as the SQLite statements have them: the text is converted once
 * to `$1…$n` and each call maps an object to the positional values.
 */
export function named(sql: string): {
  text: string;
  values(params: Record<string, unknown>): unknown[];
} {
  const names: string[] = [];
  const text = sql.replace(/@([A-Za-z]\w*)/g, (_, name: string) => {
    let index = names.indexOf(name);
    if (index === -1) index = names.push(name) - 1;
    return `$${index + 1}`;
  });
  return {
    text,
    values: (params) =>
      names.map((name) => {
        if (!(name in params)) throw new Error(`missing SQL parameter @${name}`);
        return params[name];
      }),
  };
}
